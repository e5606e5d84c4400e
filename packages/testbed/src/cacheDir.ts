import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where slow-to-make artefacts (initdb templates, built binaries, images) are kept. */
export function cacheDir(...parts: string[]): string {
  const base =
    process.env.LEENGINE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'leengine');
  return join(base, ...parts);
}
