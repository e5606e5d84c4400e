import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** What one `docker-registry garbage-collect` run found, and with `dryRun: false` deleted. */
export interface RegistryGarbage {
  dryRun: boolean;
  /** Blobs a kept manifest references (layers, configs, the manifests themselves). */
  markedBlobs: number;
  /** Blobs no kept manifest references, with their size on disk before the run. */
  blobs: { digest: string; bytes: number }[];
  /** The blobs' bytes together: what the run frees (or, dry, would free). */
  bytes: number;
  /** Manifests no tag points at (only with `deleteUntagged`), by repository. */
  manifests: { repository: string; digest: string }[];
  /** Bytes of every file in the storage directory, before and after the run. */
  storageBytesBefore: number;
  storageBytesAfter: number;
  durationMs: number;
  /** The command's output (stdout and stderr). */
  output: string;
}

const DIGEST = /(sha256:[0-9a-f]{64})/;
/** A repository name alone on its line (distribution's names: lowercase, `.`, `_`, `-`, `/`). */
const REPOSITORY_LINE = /^[a-z0-9][a-z0-9._-]*(?:\/[a-z0-9][a-z0-9._-]*)*$/;

/**
 * Reads distribution 2.8's `garbage-collect` output: a bare line names each repository
 * as it is walked, `manifest eligible for deletion: <digest>` follows under it (with
 * `--delete-untagged`), then `<n> blobs marked, ...` and one `blob eligible for
 * deletion: <digest>` per blob. `sizes` are the blobs' sizes taken before the run.
 */
export function parseGarbageCollect(
  output: string,
  dryRun: boolean,
  sizes: Map<string, number>,
): Pick<RegistryGarbage, 'dryRun' | 'markedBlobs' | 'blobs' | 'bytes' | 'manifests'> {
  let repository = '';
  let markedBlobs = -1;
  const blobs: { digest: string; bytes: number }[] = [];
  const manifests: { repository: string; digest: string }[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (REPOSITORY_LINE.test(line)) {
      repository = line;
      continue;
    }
    const summary = /^(\d+) blobs marked, (\d+) blobs and (\d+) manifests eligible for deletion$/.exec(line);
    if (summary) {
      markedBlobs = Number(summary[1]);
      continue;
    }
    const blob = /^blob eligible for deletion: /.test(line) ? DIGEST.exec(line) : null;
    if (blob?.[1]) {
      blobs.push({ digest: blob[1], bytes: sizes.get(blob[1]) ?? 0 });
      continue;
    }
    const manifest = /^manifest eligible for deletion: /.test(line) ? DIGEST.exec(line) : null;
    if (manifest?.[1]) manifests.push({ repository, digest: manifest[1] });
  }
  if (markedBlobs < 0) throw new Error('garbage-collect printed no summary line ("... blobs marked, ...")');
  blobs.sort((a, b) => a.digest.localeCompare(b.digest));
  return { dryRun, markedBlobs, blobs, bytes: blobs.reduce((sum, b) => sum + b.bytes, 0), manifests };
}

/** Sizes of the blobs in a filesystem driver's storage, by digest. */
export async function blobSizes(storageDir: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  const root = join(storageDir, 'docker', 'registry', 'v2', 'blobs', 'sha256');
  for (const prefix of await listDir(root)) {
    for (const hex of await listDir(join(root, prefix))) {
      try {
        sizes.set(`sha256:${hex}`, (await stat(join(root, prefix, hex, 'data'))).size);
      } catch {
        // a blob directory without data (an upload that never finished): nothing to free
      }
    }
  }
  return sizes;
}

/** Bytes of every regular file under `dir` (what the storage holds, directories aside). */
export async function storageBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}
