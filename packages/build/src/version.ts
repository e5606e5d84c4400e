import { readFileSync } from 'node:fs';

/** This package's version, registered by each agent. */
export const BUILD_AGENT_VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
