// Helpers for tests and benchmarks of the container network (not part of the library).
export { type AgentProcess, agentHealthy, startAgentProcess } from './agentProcess.ts';
export { AGENT, CNICTL, type CniCall, type CniCallResult, callPlugin, PLUGIN, resultIp } from './cniCall.ts';
export { inNetns, NetFixture, removeLeftovers } from './netFixture.ts';
