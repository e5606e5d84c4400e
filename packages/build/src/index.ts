export { BuildAgent, type BuildAgentDeps, type BuildAgentOptions } from './buildAgent.ts';
export { BuildDispatcher, type DispatcherEvents, type LiveAgent } from './buildDispatcher.ts';
export { type RunResult, runCommand } from './command.ts';
export {
  type BuildReporter,
  CoreReporter,
  type CoreReporterOptions,
  ReportRefusedError,
} from './coreReporter.ts';
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
  BUILD_RESULTS_PREFIX,
  type BuildEvent,
  BuildEventSchema,
  type BuildResult,
  BuildResultSchema,
  type BuildTask,
  BuildTaskSchema,
  CachePathSchema,
  type CompileStep,
  CompileStepSchema,
  type FinishedEvent,
  parseBuildKey,
  RepoPathSchema,
  recordStep,
  resultKey,
  STEP_NAMES,
  type StepName,
  type StepRecord,
  StepRecordSchema,
  taskKey,
  taskPrefix,
} from './task.ts';
export { BUILD_AGENT_VERSION } from './version.ts';
