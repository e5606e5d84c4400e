import type { CoreConfig } from '../config.ts';
import type { BuildServiceDeps } from './buildService.ts';

/** What the build service takes from core's configuration. */
export function buildSettings(
  config: CoreConfig,
): Pick<BuildServiceDeps, 'registryHost' | 'registryInsecure' | 'agentToken'> {
  const registry = config.REGISTRY_URL ? new URL(config.REGISTRY_URL) : undefined;
  return {
    registryHost: registry?.host,
    registryInsecure: registry?.protocol === 'http:',
    agentToken: config.LEENGINE_BUILD_AGENT_TOKEN,
  };
}
