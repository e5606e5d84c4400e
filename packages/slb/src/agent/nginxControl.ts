import { request } from 'node:http';

/**
 * Client of nginx's control server (a unix socket, see renderMain): pushes domain state
 * into the Lua shared dict and asks which generation and epoch nginx holds. Each call
 * opens a new connection, so after a reload it reaches a worker of the new generation.
 */
export class NginxControl {
  readonly socketPath: string;

  private constructor(socketPath: string) {
    this.socketPath = socketPath;
  }

  static create(socketPath: string): NginxControl {
    return new NginxControl(socketPath);
  }

  /** The generation id the answering worker was started with. */
  async generation(): Promise<string> {
    return (await this.#call('GET', '/generation')).body.trim();
  }

  /**
   * The epoch the agent last stored in the shared dict ('' when none): a different one
   * means nginx was restarted (its shared memory is empty) and everything must be pushed again.
   */
  async epoch(): Promise<string> {
    const { status, body } = await this.#call('GET', '/epoch');
    return status === 200 ? body.trim() : '';
  }

  /** Pushes a batch (see renderControlBatch) and stores `epoch`; throws unless nginx took all of it. */
  async push(batch: string, epoch: string): Promise<void> {
    const { status, body } = await this.#call('POST', '/upstreams', batch, { 'x-leengine-epoch': epoch });
    if (status !== 200) throw new Error(`nginx control: ${status} ${body.trim()}`);
  }

  /** A domain's state text as nginx holds it, or undefined. */
  async state(domain: string): Promise<string | undefined> {
    const { status, body } = await this.#call('GET', `/upstreams/${domain}`);
    return status === 200 ? body : undefined;
  }

  #call(
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          path,
          method,
          agent: false,
          headers: {
            host: 'slb-control',
            ...headers,
            ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) }),
          },
          timeout: 5000,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`nginx control: ${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}
