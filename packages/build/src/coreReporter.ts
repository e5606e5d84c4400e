import type { RegistryCredential } from './pipeline.ts';
import type { BuildEvent } from './task.ts';

/** Where an agent sends a build's events and asks for push credentials. */
export interface BuildReporter {
  /** Sends events in order; resolves once core stored them (retries inside). */
  send(buildId: number, taskId: string, events: BuildEvent[]): Promise<void>;
  registryCredential(buildId: number, taskId: string): Promise<RegistryCredential | null>;
}

/** Core answered the report with a 4xx: retrying will not help (the build is settled, or the token is wrong). */
export class ReportRefusedError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = 'ReportRefusedError';
    this.status = status;
  }
}

export interface CoreReporterOptions {
  coreUrl: string;
  agentId: string;
  /** Shared secret of the region's build agents (LEENGINE_BUILD_AGENT_TOKEN). */
  agentToken: string;
  /** Attempts per batch before giving up (default 8, backoff 250 ms doubling to 4 s). */
  attempts?: number;
}

/** Reports to leengine-core over HTTP: /api/v1/build-agent/builds/{id}/... */
export class CoreReporter implements BuildReporter {
  readonly #options: CoreReporterOptions;

  constructor(options: CoreReporterOptions) {
    this.#options = options;
  }

  async send(buildId: number, taskId: string, events: BuildEvent[]): Promise<void> {
    await this.#post(`/builds/${buildId}/events`, { agentId: this.#options.agentId, taskId, events });
  }

  async registryCredential(buildId: number, taskId: string): Promise<RegistryCredential | null> {
    const body = (await this.#post(`/builds/${buildId}/registry-credential`, {
      agentId: this.#options.agentId,
      taskId,
    })) as { credential: RegistryCredential | null };
    return body.credential;
  }

  async #post(path: string, body: unknown): Promise<unknown> {
    const attempts = this.#options.attempts ?? 8;
    let delay = 250;
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      try {
        const response = await fetch(`${this.#options.coreUrl}/api/v1/build-agent${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-leengine-agent-token': this.#options.agentToken,
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
        const text = await response.text();
        if (response.ok) return text ? JSON.parse(text) : {};
        const message = `core answered ${response.status}: ${text.slice(0, 300)}`;
        // 4xx other than 429: retrying will not help (the build is gone or the token is wrong).
        if (response.status < 500 && response.status !== 429)
          throw new ReportRefusedError(response.status, message);
        lastError = new Error(message);
      } catch (error) {
        if (error instanceof ReportRefusedError) throw error;
        lastError = error;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 4000);
    }
    throw lastError;
  }
}
