import { get } from 'node:http';
import { join } from 'node:path';
import { freePort, ManagedProcess } from '@leengine/testbed';
import { AGENT } from './cniCall.ts';

export interface AgentProcess {
  proc: ManagedProcess;
  port: number;
  tokenFile: string;
}

/** Starts bin/leengine-ipam-agent as a managed child on a free port and waits until it answers. */
export async function startAgentProcess(options: {
  node: string;
  dir: string;
  port?: number;
  logLevel?: string;
}): Promise<AgentProcess> {
  const port = options.port ?? (await freePort());
  const tokenFile = join(options.dir, `agent-${port}.token`);
  const proc = ManagedProcess.start({
    component: 'ipam-agent',
    argv: [
      AGENT,
      '--port',
      String(port),
      '--token-file',
      tokenFile,
      '--node',
      options.node,
      '--log-level',
      options.logLevel ?? 'warn',
    ],
    cwd: options.dir,
    logFile: join(options.dir, 'agent.log'),
  });
  for (let i = 0; i < 300; i++) {
    if (await agentHealthy(port)) return { proc, port, tokenFile };
    if (proc.exitStatus) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await proc.stop();
  throw new Error(`the agent did not answer on port ${port}:\n${proc.tail()}`);
}

export function agentHealthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/healthz' }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
  });
}
