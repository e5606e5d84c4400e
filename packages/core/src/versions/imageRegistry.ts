import { InputError } from '@leengine/common';
import type { RegistryClient } from '../registry/registryClient.ts';

/**
 * The region registry as deploys see it: where cells pull from, and whether a tag
 * exists. Without a configured registry, images are referenced as `repository:tag` and
 * not checked.
 */
export class ImageRegistry {
  readonly #url: URL | undefined;
  readonly #client: RegistryClient | undefined;

  constructor(url: string | undefined, client: RegistryClient | undefined) {
    this.#url = url ? new URL(url) : undefined;
    this.#client = client;
  }

  /** The registry's host as cells reach it (`host:port`); undefined without a configured registry. */
  get host(): string | undefined {
    return this.#url?.host;
  }

  /** What the cells pull: `host:port/repository:tag` (the registry's host as the cells reach it). */
  reference(repository: string, tag: string): string {
    return this.#url ? `${this.#url.host}/${repository}:${tag}` : `${repository}:${tag}`;
  }

  /**
   * Throws InputError (field `image.tag`) when the registry does not have the tag, and
   * UnavailableError when it cannot be asked (the manifest is read with core's own token).
   */
  async assertTagExists(repository: string, tag: string): Promise<void> {
    if (!this.#client) return;
    if (await this.#client.manifest(repository, tag)) return;
    throw notInRegistry(repository, tag);
  }
}

/** The one refusal for a missing tag, a missing repository and one the deployer may not pull. */
export function notInRegistry(repository: string, tag: string): InputError {
  return new InputError(`image ${repository}:${tag} is not in the registry`, [
    { in: 'body', path: 'image.tag', message: `no tag "${tag}" in ${repository}` },
  ]);
}
