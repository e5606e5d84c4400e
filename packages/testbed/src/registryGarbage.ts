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
  /** Bytes of every blob in the storage, before and after the run (link files aside). */
  blobBytesBefore: number;
  blobBytesAfter: number;
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

/** Each blob's size by digest in a filesystem driver's storage, and their sum. */
export interface BlobScan {
  bytes: number;
  blobs: Map<string, number>;
}

/**
 * Reads the blob store (`docker/registry/v2/blobs/sha256/<xx>/<hex>/data`), stat-ing many
 * files at a time: a collection does this inside its read-only window, before and after.
 */
export async function scanBlobs(storageDir: string): Promise<BlobScan> {
  const root = join(storageDir, 'docker', 'registry', 'v2', 'blobs', 'sha256');
  const digests = (
    await Promise.all(
      (
        await listDir(root)
      ).map(async (prefix) => (await listDir(join(root, prefix))).map((hex) => [prefix, hex] as const)),
    )
  ).flat();
  const blobs = new Map<string, number>();
  let bytes = 0;
  for (let i = 0; i < digests.length; i += 256) {
    const batch = digests.slice(i, i + 256);
    const sizes = await Promise.all(
      batch.map(([prefix, hex]) =>
        stat(join(root, prefix, hex, 'data')).then(
          (s) => s.size,
          () => undefined, // a blob directory without data (an unfinished upload): nothing to free
        ),
      ),
    );
    batch.forEach(([, hex], j) => {
      const size = sizes[j];
      if (size === undefined) return;
      blobs.set(`sha256:${hex}`, size);
      bytes += size;
    });
  }
  return { bytes, blobs };
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
