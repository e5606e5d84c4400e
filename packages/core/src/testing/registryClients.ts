import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findBinary } from '@leengine/testbed';

const run = promisify(execFile);

/** What a client command did: ok, or its stderr. */
export interface Outcome {
  ok: boolean;
  output: string;
}

/**
 * skopeo against the test registry (plain HTTP on loopback), with `user:secret`
 * credentials or none. Nothing is cached between calls: each call does the whole
 * 401 -> token -> retry dance.
 */
export async function skopeo(args: string[]): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'skopeo-'));
  try {
    const { stdout } = await run(findBinary('skopeo', 'skopeo'), args, {
      maxBuffer: 16 * 1024 * 1024,
      // No stray credentials from the machine: an empty auth file of its own.
      env: { ...process.env, REGISTRY_AUTH_FILE: join(dir, 'auth.json'), HOME: dir },
      timeout: 120_000,
    });
    return { ok: true, output: stdout };
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    return { ok: false, output: e.stderr ?? e.message };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `--creds user:secret`, or `--no-creds` for anonymous. */
export function credsArgs(creds: string | undefined, flag = '--creds'): string[] {
  return creds ? [`${flag}=${creds}`] : ['--no-creds'];
}

/** Pull check: the manifest and config (`skopeo inspect`). */
export function inspect(host: string, image: string, creds?: string): Promise<Outcome> {
  return skopeo(['inspect', '--tls-verify=false', ...credsArgs(creds), `docker://${host}/${image}`]);
}

/** Registry-to-registry copy: pulls `from` and pushes `to` through the auth flow, layers and all. */
export function copy(
  host: string,
  from: string,
  to: string,
  creds: { src?: string; dest?: string },
): Promise<Outcome> {
  return skopeo([
    'copy',
    '--src-tls-verify=false',
    '--dest-tls-verify=false',
    ...(creds.src ? [`--src-creds=${creds.src}`] : ['--src-no-creds']),
    ...(creds.dest ? [`--dest-creds=${creds.dest}`] : []),
    `docker://${host}/${from}`,
    `docker://${host}/${to}`,
  ]);
}

/** Deletes the manifest a tag points at (the registry API's delete). */
export function remove(host: string, image: string, creds?: string): Promise<Outcome> {
  return skopeo(['delete', '--tls-verify=false', ...credsArgs(creds), `docker://${host}/${image}`]);
}
