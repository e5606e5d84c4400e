import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ComponentError } from './componentError.ts';

/**
 * Finds an executable on PATH or in extra directories (or checks an explicit path, one
 * with a `/`); a clear error names the component.
 */
export function findBinary(component: string, name: string, extraDirs: string[] = []): string {
  if (name.includes('/')) {
    try {
      accessSync(name, constants.X_OK);
      return name;
    } catch {
      throw new ComponentError(
        component,
        `binary '${name}' not found or not executable; run scripts/setup.sh`,
      );
    }
  }
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', ...extraDirs];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  throw new ComponentError(
    component,
    `binary '${name}' not found (looked in PATH and ${extraDirs.join(', ') || 'no other dirs'}); run scripts/setup.sh to install the platform's components`,
  );
}

/** PostgreSQL's server binaries live in a versioned directory on Debian. */
export function postgresBinDirs(): string[] {
  try {
    return readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a))
      .map((v) => `/usr/lib/postgresql/${v}/bin`);
  } catch {
    return [];
  }
}
