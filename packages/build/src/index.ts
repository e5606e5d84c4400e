export { BuildAgent, type BuildAgentDeps, type BuildAgentOptions } from './buildAgent.ts';
export { BuildDispatcher, type DispatcherEvents, type LiveAgent } from './buildDispatcher.ts';
export { type RunResult, runCommand } from './command.ts';
export { type BuildReporter, CoreReporter, type CoreReporterOptions } from './coreReporter.ts';
export {
  type PipelineResult,
  projectDir,
  type RegistryCredential,
  runPipeline,
  StepError,
} from './pipeline.ts';
export { isCommitId, isImageTag, refNameProblem } from './refName.ts';
export { rendezvousOrder, rendezvousScore } from './rendezvous.ts';
export {
  type AgentRegistration,
  AgentRegistrationSchema,
  agentKey,
  BUILD_AGENTS_PREFIX,
  type BuildEvent,
  BuildEventSchema,
  type BuildTask,
  BuildTaskSchema,
  CachePathSchema,
  type CompileStep,
  CompileStepSchema,
  parseBuildKey,
  RepoPathSchema,
  STEP_NAMES,
  type StepName,
  taskKey,
  taskPrefix,
} from './task.ts';
export { BUILD_AGENT_VERSION } from './version.ts';
