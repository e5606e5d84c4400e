// leengine-core's executable: configuration from the environment (see config.ts).
import { DomainError } from '@leengine/common';
import { loadConfig } from './config.ts';
import { Core } from './core.ts';

try {
  const core = await Core.create(loadConfig(process.env));
  const url = await core.listen();
  core.logger.info({ url }, 'leengine-core listening');
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      core.logger.info({ signal }, 'shutting down');
      void core.close().then(() => process.exit(0));
    });
  }
} catch (error) {
  console.error(error instanceof DomainError ? `leengine-core: ${error.message}` : error);
  process.exit(1);
}
