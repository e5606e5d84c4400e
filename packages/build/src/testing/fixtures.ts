import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Buildah } from '@leengine/testbed';

/** A git repository on disk with one commit of `files` on `branch`; returns its path. */
export function gitRepo(dir: string, files: Record<string, string>, branch = 'main'): string {
  mkdirSync(dir, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', dir, ...args], {
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@e',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@e',
      },
    }).trim();
  git('init', '--quiet', '--initial-branch', branch);
  return commitFiles(dir, files, 'initial');
}

/** Writes `files`, commits them; returns the repository path (HEAD is the new commit). */
export function commitFiles(dir: string, files: Record<string, string | null>, message: string): string {
  for (const [path, content] of Object.entries(files)) {
    const file = join(dir, path);
    if (content === null) rmSync(file, { force: true });
    else {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
    }
  }
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@e',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@e',
  };
  execFileSync('git', ['-C', dir, 'add', '-A'], { env });
  execFileSync('git', ['-C', dir, 'commit', '--quiet', '--allow-empty', '-m', message], { env });
  return dir;
}

export function headCommit(dir: string): string {
  return execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
}

/**
 * Pushes Debian's static busybox as `{registryHost}/base/busybox:1` (FROM and builder
 * image); `creds` (`user:secret`) for a registry with token auth.
 */
export async function pushBusyboxBase(registryHost: string, creds?: string): Promise<string> {
  await using buildah = Buildah.create();
  await buildah.busyboxImage('localhost/base-busybox:1', { cmd: ['/bin/sh'] });
  const ref = `${registryHost}/base/busybox:1`;
  await buildah.push('localhost/base-busybox:1', ref, creds ? { creds } : {});
  return ref;
}

/** A temp dir removed by the returned function. */
export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `leengine-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** buildah global options for storage of its own under `dir` (vfs, no daemon). */
export function buildahStorage(dir: string): string[] {
  return ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs'];
}

/** A tiny web app: the compile step writes index.html from `version`; the image serves it. */
export function webAppFiles(baseImage: string, version: string): Record<string, string> {
  return {
    version,
    Dockerfile: `FROM ${baseImage}\nCOPY out/ /srv/\nEXPOSE 8080\nCMD ["httpd", "-f", "-p", "8080", "-h", "/srv"]\n`,
  };
}

/** The compile argv for webAppFiles: builds out/index.html and counts runs in the cache. */
export const WEB_APP_COMPILE = [
  'sh',
  '-c',
  'mkdir -p out && echo "hello $(cat version)" > out/index.html && echo run >> /cache/runs && wc -l < /cache/runs',
];
