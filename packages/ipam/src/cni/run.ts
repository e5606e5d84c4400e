import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

/** A command that exited non-zero; `stderr` says why. */
export class CommandError extends Error {
  readonly argv: readonly string[];
  readonly stderr: string;
  readonly exitCode: number | null;

  constructor(argv: readonly string[], exitCode: number | null, stderr: string) {
    super(`${argv.join(' ')} failed (exit ${exitCode}): ${stderr.trim() || '(no output)'}`);
    this.name = 'CommandError';
    this.argv = argv;
    this.stderr = stderr;
    this.exitCode = exitCode;
  }
}

// The runtime may exec the plugin with no PATH at all: look in the system dirs too.
const SYSTEM_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];
const resolved = new Map<string, string>();

/** Absolute path of a tool such as `ip` or `nsenter`. */
export function tool(name: string): string {
  if (name.includes('/')) return name;
  let path = resolved.get(name);
  if (path === undefined) {
    const dirs = [...(process.env.PATH ?? '').split(':').filter((d) => d.startsWith('/')), ...SYSTEM_DIRS];
    path = name;
    for (const dir of dirs) {
      try {
        accessSync(`${dir}/${name}`, constants.X_OK);
        path = `${dir}/${name}`;
        break;
      } catch {
        // not here
      }
    }
    resolved.set(name, path);
  }
  return path;
}

/** Runs `argv` (never through a shell), feeding `input` on stdin; resolves with stdout. */
export function run(argv: readonly [string, ...string[]], input?: string): Promise<string> {
  const [name, ...args] = argv;
  const file = tool(name);
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', (error) => reject(new CommandError(argv, null, error.message)));
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new CommandError(argv, code, stderr)),
    );
    child.stdin.on('error', () => {}); // the command may exit before reading all of it
    child.stdin.end(input ?? '');
  });
}
