import { UnavailableError } from '@leengine/common';

/** Manifest media types core asks for (OCI and Docker, single images and indexes). */
export const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

export interface ManifestInfo {
  digest: string;
  mediaType: string;
  /** Bytes a pull downloads: the manifest, its config and layers (an index: itself and its manifests). */
  size: number;
  /** An index's manifests (digests); none for a single image. */
  children: string[];
}

/** Mints a bearer token for core's own calls: `repository:<name>:<actions>`. */
export type TokenMinter = (repository: string, actions: string[]) => string;

/**
 * The registry's HTTP API (distribution v2) as core uses it: tags, manifests, deletes.
 * Every call carries a short-lived token core signs for itself with only the scope the
 * call needs.
 */
export class RegistryClient {
  readonly #url: URL;
  readonly #mint: TokenMinter;
  readonly #timeoutMs: number;

  constructor(url: string, mint: TokenMinter, options: { timeoutMs?: number } = {}) {
    this.#url = new URL(url);
    this.#mint = mint;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** `host:port` of the registry, as clients name it in image references. */
  get host(): string {
    return this.#url.host;
  }

  /** Every tag of a repository (none when the registry does not know the repository). */
  async tags(repository: string): Promise<string[]> {
    const tags: string[] = [];
    let path: string | null = `v2/${repository}/tags/list?n=1000`;
    while (path) {
      const response = await this.#fetch(repository, ['pull'], path, { method: 'GET' });
      if (response.status === 404) return [];
      if (response.status !== 200) throw await unexpected(response, `listing tags of ${repository}`);
      const body = (await response.json()) as { tags?: string[] | null };
      tags.push(...(body.tags ?? []));
      // RFC 5988 Link: </v2/...?n=1000&last=x>; rel="next"
      const next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '');
      path = next?.[1] ? next[1].replace(/^\//, '') : null;
    }
    return tags.sort();
  }

  /** A manifest's digest, type and pull size; undefined when there is no such tag or digest. */
  async manifest(repository: string, reference: string): Promise<ManifestInfo | undefined> {
    const response = await this.#fetch(
      repository,
      ['pull'],
      `v2/${repository}/manifests/${encodeURIComponent(reference)}`,
      {
        method: 'GET',
        headers: { accept: MANIFEST_TYPES.join(', ') },
      },
    );
    if (response.status === 404) {
      await response.arrayBuffer();
      return undefined;
    }
    if (response.status !== 200) throw await unexpected(response, `reading ${repository}:${reference}`);
    const raw = Buffer.from(await response.arrayBuffer());
    const digest = response.headers.get('docker-content-digest') ?? '';
    const body = JSON.parse(raw.toString('utf8')) as {
      mediaType?: string;
      config?: { size?: number };
      layers?: { size?: number }[];
      manifests?: { size?: number; digest?: string }[];
    };
    const mediaType = response.headers.get('content-type') ?? body.mediaType ?? '';
    const parts = [body.config, ...(body.layers ?? []), ...(body.manifests ?? [])];
    const size = raw.length + parts.reduce((sum, p) => sum + (p?.size ?? 0), 0);
    const children = (body.manifests ?? []).flatMap((m) => (typeof m.digest === 'string' ? [m.digest] : []));
    return { digest, mediaType, size, children };
  }

  /** Deletes a manifest by digest (every tag pointing at it goes with it); false if it was not there. */
  async deleteManifest(repository: string, digest: string): Promise<boolean> {
    const response = await this.#fetch(repository, ['delete'], `v2/${repository}/manifests/${digest}`, {
      method: 'DELETE',
    });
    await response.arrayBuffer();
    if (response.status === 202) return true;
    if (response.status === 404) return false;
    throw await unexpected(response, `deleting ${repository}@${digest}`);
  }

  /**
   * Deletes every manifest the repository's tags point at, then the manifests of those
   * that are indexes (the registry keeps an index's children when the index goes, and
   * they stay pullable by digest); returns how many were deleted. Distribution 2.8 cannot
   * list untagged manifests, so one pushed by digest only and never tagged stays.
   */
  async deleteAll(repository: string): Promise<number> {
    const tagged = new Set<string>();
    const children = new Set<string>();
    for (const tag of await this.tags(repository)) {
      const manifest = await this.manifest(repository, tag);
      if (!manifest) continue; // deleted meanwhile
      tagged.add(manifest.digest);
      for (const child of manifest.children) children.add(child);
    }
    let deleted = 0;
    for (const digest of [...tagged, ...[...children].filter((c) => !tagged.has(c))]) {
      if (await this.deleteManifest(repository, digest)) deleted += 1;
    }
    return deleted;
  }

  async #fetch(repository: string, actions: string[], path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(new URL(path, this.#url), {
        ...init,
        headers: {
          ...(init.headers as Record<string, string>),
          authorization: `Bearer ${this.#mint(repository, actions)}`,
        },
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new UnavailableError(`the registry did not answer: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}

async function unexpected(response: Response, what: string): Promise<UnavailableError> {
  const text = (await response.text().catch(() => '')).slice(0, 300);
  return new UnavailableError(`the registry answered ${response.status} ${what}: ${text}`);
}
