import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findBinary } from './binaries.ts';
import { ComponentError } from './componentError.ts';
import { makeWorkDir, type WorkDir } from './workDir.ts';

const run = promisify(execFile);

export interface PushOptions {
  /** Plain HTTP registry on loopback (testbed's) needs this off. */
  tlsVerify?: boolean;
  /** `user:password` for the registry. */
  creds?: string;
}

/**
 * buildah with its own storage (vfs driver) in a temp dir: images built here never
 * touch the machine's container storage, and no daemon is involved.
 */
export class Buildah implements AsyncDisposable {
  readonly #binary: string;
  readonly #workDir: WorkDir;

  private constructor(binary: string, workDir: WorkDir) {
    this.#binary = binary;
    this.#workDir = workDir;
  }

  static create(options: { dir?: string } = {}): Buildah {
    return new Buildah(findBinary('buildah', 'buildah'), makeWorkDir('buildah', { dir: options.dir }));
  }

  /** Runs `buildah <args>` with this storage; returns trimmed stdout. */
  async run(args: string[]): Promise<string> {
    const argv = [
      '--root',
      join(this.#workDir.path, 'root'),
      '--runroot',
      join(this.#workDir.path, 'run'),
      '--storage-driver',
      'vfs',
      ...args,
    ];
    try {
      const { stdout } = await run(this.#binary, argv, { maxBuffer: 64 * 1024 * 1024 });
      return stdout.trim();
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new ComponentError(
        'buildah',
        `buildah ${args.slice(0, 2).join(' ')} failed`,
        e.stderr ?? e.message,
        {
          cause: error,
        },
      );
    }
  }

  /**
   * A tiny image FROM scratch holding Debian's static busybox (about 1 MiB) with its
   * applets linked into /bin: a shell, an HTTP server (`httpd`), `sleep` for the pause
   * container. `cmd` is the image's default command.
   */
  async busyboxImage(name: string, options: { cmd?: string[]; busybox?: string } = {}): Promise<string> {
    const busybox = options.busybox ?? '/bin/busybox';
    const rootfs = join(this.#workDir.path, `rootfs-${process.pid}-${Date.now()}`);
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    mkdirSync(join(rootfs, 'tmp'));
    copyFileSync(busybox, join(rootfs, 'bin', 'busybox'));
    chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
    const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const applet of applets) {
      if (applet !== 'busybox' && /^[a-z0-9_.[-]+$/.test(applet))
        symlinkSync('busybox', join(rootfs, 'bin', applet));
    }
    const container = await this.run(['from', '--pull-never', 'scratch']);
    try {
      await this.run(['add', container, `${rootfs}/`, '/']);
      await this.run([
        'config',
        '--env',
        'PATH=/bin',
        '--cmd',
        JSON.stringify(options.cmd ?? ['/bin/sh']),
        container,
      ]);
      return await this.run(['commit', '--quiet', container, name]);
    } finally {
      await this.run(['rm', container]).catch(() => {});
      rmSync(rootfs, { recursive: true, force: true });
    }
  }

  /** Pushes a local image to `docker://<destination>`. */
  async push(image: string, destination: string, options: PushOptions = {}): Promise<void> {
    const args = ['push', `--tls-verify=${options.tlsVerify ?? false}`];
    if (options.creds) args.push('--creds', options.creds);
    await this.run([...args, image, `docker://${destination}`]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.remove();
  }

  /** Removes the storage dir. */
  remove(): void {
    this.#workDir.remove();
  }
}
