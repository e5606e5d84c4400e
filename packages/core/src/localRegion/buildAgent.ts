import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ComponentHandle, ManagedProcess, processHandle, waitUntilReady } from '@leengine/testbed';
import type { Core } from '../core.ts';

const AGENT_BIN = fileURLToPath(new URL('../../../build/bin/build-agent', import.meta.url));

/** The local region's one build agent. */
export const LOCAL_BUILD_AGENT_ID = 'local-1';

/**
 * `env` with core's build settings for the local region: the agents' shared secret (made
 * on every start unless given) and local git repositories allowed (the region's own
 * agent runs on this machine, for this machine's developer).
 */
export function withLocalBuilds(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return {
    ...env,
    LEENGINE_BUILD_AGENT_TOKEN: env.LEENGINE_BUILD_AGENT_TOKEN || randomBytes(24).toString('hex'),
    LEENGINE_BUILD_ALLOW_LOCAL_GIT: env.LEENGINE_BUILD_ALLOW_LOCAL_GIT || '1',
  };
}

export interface LocalBuildAgentOptions {
  /** The region's state dir: the agent keeps workspaces, caches and buildah storage in `build/`. */
  stateDir: string;
  etcdUrl: string;
  /** The region's core, listening, with LEENGINE_BUILD_AGENT_TOKEN set. */
  core: Core;
}

/**
 * Starts the real `build-agent` executable for the local region, as a build host would
 * run it: its per-project workspaces and dependency caches in `{stateDir}/build/work`
 * (kept between runs, so caches stay warm), buildah's own vfs storage in
 * `{stateDir}/build/buildah`, file:// repositories allowed. Ready once core sees it.
 */
export async function startLocalBuildAgent(options: LocalBuildAgentOptions): Promise<ComponentHandle> {
  const startedAt = performance.now();
  const { core } = options;
  const agentToken = core.config.LEENGINE_BUILD_AGENT_TOKEN;
  if (!core.url || !agentToken)
    throw new Error('the local build agent needs a listening core with an agent token');
  const dir = join(options.stateDir, 'build');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const proc = ManagedProcess.start({
    component: 'build-agent',
    argv: [AGENT_BIN],
    cwd: dir,
    logFile: join(dir, 'build-agent.log'),
    // Only what the agent and the programs it runs (git, buildah) need; not core's secrets.
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TMPDIR: process.env.TMPDIR,
      LANG: process.env.LANG,
      ETCD_ENDPOINTS: options.etcdUrl,
      LEENGINE_CORE_URL: core.url,
      LEENGINE_BUILD_AGENT_TOKEN: agentToken,
      BUILD_AGENT_ID: LOCAL_BUILD_AGENT_ID,
      BUILD_AGENT_CAPACITY: '2',
      BUILD_AGENT_WORK_DIR: join(dir, 'work'),
      BUILD_AGENT_BUILDAH_ROOT: join(dir, 'buildah'),
      BUILD_AGENT_ALLOW_FILE_URLS: '1',
      LOG_LEVEL: 'info',
    },
  });
  try {
    const registered = () => core.services.builds.agents().some((a) => a.agentId === LOCAL_BUILD_AGENT_ID);
    await waitUntilReady(proc, async () => registered(), {
      what: 'registering with core',
      timeoutMs: 30_000,
      intervalMs: 100,
    });
  } catch (error) {
    await proc.stop(1000);
    throw error;
  }
  // A running build reports its end to core before the agent exits; give it the time.
  return processHandle(proc, dir, startedAt, () => proc.stop(15_000));
}
