import { InputError, UnavailableError } from '@leengine/common';

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/**
 * The region registry as deploys see it: where cells pull from, and whether a tag
 * exists. Without a configured registry, images are referenced as `repository:tag` and
 * not checked.
 */
export class ImageRegistry {
  readonly #url: URL | undefined;
  readonly #timeoutMs: number;

  constructor(url: string | undefined, options: { timeoutMs?: number } = {}) {
    this.#url = url ? new URL(url) : undefined;
    this.#timeoutMs = options.timeoutMs ?? 5000;
  }

  /** What the cells pull: `host:port/repository:tag` (the registry's host as the cells reach it). */
  reference(repository: string, tag: string): string {
    return this.#url ? `${this.#url.host}/${repository}:${tag}` : `${repository}:${tag}`;
  }

  /**
   * Throws InputError (field `image.tag`) when the registry does not have the tag, and
   * UnavailableError when it cannot be asked. `HEAD /v2/<repository>/manifests/<tag>`.
   */
  async assertTagExists(repository: string, tag: string): Promise<void> {
    if (!this.#url) return;
    const url = new URL(`v2/${repository}/manifests/${encodeURIComponent(tag)}`, this.#url);
    let status: number;
    try {
      const response = await fetch(url, {
        method: 'HEAD',
        headers: { accept: MANIFEST_TYPES },
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      status = response.status;
    } catch (error) {
      throw new UnavailableError(`the registry did not answer: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (status === 200) return;
    if (status === 404) {
      throw new InputError(`image ${repository}:${tag} is not in the registry`, [
        { in: 'body', path: 'image.tag', message: `no tag "${tag}" in ${repository}` },
      ]);
    }
    throw new UnavailableError(`the registry answered ${status} for ${repository}:${tag}`);
  }
}
