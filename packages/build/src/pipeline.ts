import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type RunResult, runCommand } from './command.ts';
import type { BuildEvent, BuildTask, StepName } from './task.ts';

/** A short-lived credential for the region registry (a robot token from core). */
export interface RegistryCredential {
  username: string;
  password: string;
}

export interface PipelineDeps {
  /** Where per-project workspaces and caches live on this build host. */
  workRoot: string;
  /** Global buildah options (e.g. `--root`, `--storage-driver vfs` for tests). */
  buildahArgs: readonly string[];
  buildahBinary?: string;
  gitBinary?: string;
  /** Asked right before pulling or pushing; null means the registry needs none. */
  registryCredential: () => Promise<RegistryCredential | null>;
  /** Clone file:// URLs and local paths (tests, the local region); off on real build hosts. */
  allowLocalRepositories?: boolean;
  emit: (event: BuildEvent) => void;
  now?: () => Date;
}

/** A build failed at a step with a message meant for the user. */
export class StepError extends Error {
  readonly step: StepName;
  constructor(step: StepName, message: string) {
    super(message);
    this.step = step;
  }
}

export interface PipelineResult {
  status: 'succeeded' | 'failed' | 'canceled';
  failedStep?: StepName;
  error?: string;
  commit?: string;
  tag?: string;
  digest?: string;
}

/** Builds that ran per project share this workspace; the agent runs one per project at a time. */
export function projectDir(workRoot: string, project: string): string {
  return join(workRoot, 'projects', project);
}

/**
 * One build: clone/fetch (shallow) into the project's workspace, compile in a container
 * from the builder image with the project's own cache mounted, build the image from the
 * repository's Dockerfile with buildah, push with a short-lived credential, report the
 * digest. Every step is timed and streams its output; `signal` cancels.
 */
export async function runPipeline(
  task: BuildTask,
  deps: PipelineDeps,
  signal: AbortSignal,
): Promise<PipelineResult> {
  const now = deps.now ?? (() => new Date());
  const git = deps.gitBinary ?? 'git';
  const buildah = deps.buildahBinary ?? 'buildah';
  const dir = projectDir(deps.workRoot, task.project);
  const src = join(dir, 'src');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const scratch = mkdtempSync(join(dir, 'build-'));
  let commit: string | undefined;
  let current: StepName = 'clone';

  const step = async <T>(name: StepName, body: (out: (text: string) => void) => Promise<T>, skip = false) => {
    current = name;
    const startedAt = now();
    deps.emit({ type: 'step-started', step: name, at: startedAt.toISOString() });
    const out = (text: string) => deps.emit({ type: 'output', step: name, text });
    const finish = (ok: boolean) =>
      deps.emit({
        type: 'step-finished',
        step: name,
        at: now().toISOString(),
        durationMs: now().getTime() - startedAt.getTime(),
        ok,
        ...(skip ? { skipped: true } : {}),
      });
    try {
      const value = skip ? (undefined as T) : await body(out);
      finish(true);
      return value;
    } catch (error) {
      finish(false);
      throw error;
    }
  };

  const run = async (
    name: StepName,
    argv: string[],
    out: (t: string) => void,
    what: string,
    env?: NodeJS.ProcessEnv,
  ) => {
    out(`$ ${argv.map(quoteForLog).join(' ')}\n`);
    let result: RunResult;
    try {
      result = await runCommand(argv, { signal, onOutput: out, env: env ?? process.env });
    } catch (error) {
      if (signal.aborted) throw error;
      throw new StepError(name, `${what}: ${(error as Error).message}`);
    }
    if (signal.aborted) throw signal.reason;
    if (result.code !== 0) {
      const last = lastLines(result.tail, 3);
      throw new StepError(
        name,
        `${what} failed (exit ${result.code ?? result.signal})${last ? `: ${last}` : ''}`,
      );
    }
    return result;
  };

  const authFile = join(scratch, 'auth.json');
  const buildahWithAuth = async (): Promise<string[]> => {
    const credential = await deps.registryCredential();
    const host = task.image.split('/')[0] ?? '';
    const auths = credential
      ? { [host]: { auth: Buffer.from(`${credential.username}:${credential.password}`).toString('base64') } }
      : {};
    writeFileSync(authFile, JSON.stringify({ auths }), { mode: 0o600 });
    return [buildah, ...deps.buildahArgs];
  };
  const tlsVerify = `--tls-verify=${!task.registryInsecure}`;

  try {
    // ---- clone: shallow fetch of exactly the asked ref into the project's workspace
    const gitEnv: NodeJS.ProcessEnv = {
      ...process.env,
      GIT_TERMINAL_PROMPT: '0',
      GIT_ASKPASS: '/bin/true',
      SSH_ASKPASS: '/bin/true',
      GIT_SSH_COMMAND: 'ssh -o BatchMode=yes -o ConnectTimeout=10',
      GIT_CONFIG_NOSYSTEM: '1',
    };
    const gitUrl = isAbsolute(task.gitUrl) ? pathToFileURL(task.gitUrl).href : task.gitUrl;
    const local = gitUrl.startsWith('file:');
    if (local && !deps.allowLocalRepositories) {
      await step('clone', async () => {
        throw new StepError('clone', 'this build host does not clone local repositories (file:// URLs)');
      });
    }
    gitEnv.GIT_ALLOW_PROTOCOL = local ? 'file' : 'http:https:ssh:git';
    commit = await step('clone', async (out) => {
      const g = (args: string[]) => [git, '-C', src, ...args];
      if (!existsSync(join(src, '.git'))) {
        rmSync(src, { recursive: true, force: true });
        await run('clone', [git, 'init', '--quiet', src], out, 'git init', gitEnv);
        await run('clone', g(['remote', 'add', 'origin', gitUrl]), out, 'git remote add', gitEnv);
      } else {
        await run('clone', g(['remote', 'set-url', 'origin', gitUrl]), out, 'git remote set-url', gitEnv);
      }
      const ref = task.gitTag ? `refs/tags/${task.gitTag}` : `refs/heads/${task.branch}`;
      const fetch = ['fetch', '--depth', '1', '--no-tags', '--force', 'origin'];
      const what = task.commit ?? ref;
      try {
        await run('clone', g([...fetch, '--', task.commit ?? ref]), out, `git fetch ${what}`, gitEnv);
      } catch (error) {
        if (!(error instanceof StepError) || !task.commit) throw error;
        // Servers that refuse fetching a commit by id: fetch the branch deeper and look for it.
        out('fetching the commit by id was refused; fetching the branch\n');
        await run(
          'clone',
          g(['fetch', '--depth', '200', '--no-tags', '--force', 'origin', '--', ref]),
          out,
          `git fetch ${ref}`,
          gitEnv,
        );
      }
      await run(
        'clone',
        g(['checkout', '--quiet', '--force', '--detach', task.commit ?? 'FETCH_HEAD']),
        out,
        'git checkout',
        gitEnv,
      );
      await run('clone', g(['clean', '-ffdxq']), out, 'git clean', gitEnv);
      const head = (
        await run('clone', g(['rev-parse', 'HEAD']), () => {}, 'git rev-parse', gitEnv)
      ).stdout.trim();
      out(`commit ${head}\n`);
      return head;
    });
    const tag = task.tag ?? commit.slice(0, 8);

    // ---- compile: in a container from the builder image, with this project's cache mounted
    await step(
      'compile',
      async (out) => {
        const compile = task.compile;
        if (!compile) return;
        const cache = task.useCache ? join(dir, 'cache') : join(scratch, 'cache');
        mkdirSync(cache, { recursive: true, mode: 0o700 });
        if (!task.useCache) out('use cache off: compiling with an empty dependency cache\n');
        const b = await buildahWithAuth();
        const from = await run(
          'compile',
          [...b, 'from', '--quiet', '--pull', tlsVerify, '--authfile', authFile, compile.image],
          out,
          `pulling builder image ${compile.image}`,
        );
        const container = from.stdout.trim().split('\n').pop() ?? '';
        try {
          await run(
            'compile',
            [
              ...b,
              'run',
              '--isolation',
              'chroot',
              '--workingdir',
              '/workspace',
              '-v',
              `${src}:/workspace`,
              '-v',
              `${cache}:${compile.cachePath}`,
              container,
              '--',
              ...compile.command,
            ],
            out,
            'compile command',
          );
        } finally {
          await runCommand([...b, 'rm', container], { signal: new AbortController().signal }).catch(() => {});
        }
      },
      task.compile === undefined,
    );

    // ---- image: buildah bud from the repository's Dockerfile
    const target = `${task.image}:${tag}`;
    await step('image', async (out) => {
      const dockerfile = insideRepo(src, task.dockerfilePath);
      if (!dockerfile || !existsSync(dockerfile) || !statSync(dockerfile).isFile()) {
        throw new StepError(
          'image',
          `no Dockerfile at "${task.dockerfilePath}" in commit ${commit?.slice(0, 8)}`,
        );
      }
      const context = task.contextPath === '.' ? src : insideRepo(src, task.contextPath);
      if (!context || !existsSync(context)) {
        throw new StepError(
          'image',
          `no build context "${task.contextPath}" in commit ${commit?.slice(0, 8)}`,
        );
      }
      const sha = createHash('sha256').update(readFileSync(dockerfile)).digest('hex');
      deps.emit({ type: 'commit', commit: commit as string, dockerfileSha256: sha });
      if (task.dockerfileSha256 && task.dockerfileSha256 !== sha) {
        throw new StepError(
          'image',
          `the Dockerfile differs from the one pinned on the platform (sha256 ${sha.slice(0, 12)}, pinned ${task.dockerfileSha256.slice(0, 12)}); a Master must re-pin it`,
        );
      }
      const b = await buildahWithAuth();
      await run(
        'image',
        [
          ...b,
          'bud',
          '--isolation',
          'chroot',
          tlsVerify,
          '--authfile',
          authFile,
          '--pull',
          '-f',
          dockerfile,
          '-t',
          target,
          context,
        ],
        out,
        'image build',
      );
    });

    // ---- push with a short-lived credential, reporting the digest
    const digest = await step('push', async (out) => {
      const b = await buildahWithAuth();
      const digestFile = join(scratch, 'digest');
      try {
        await run(
          'push',
          [
            ...b,
            'push',
            tlsVerify,
            '--authfile',
            authFile,
            '--digestfile',
            digestFile,
            target,
            `docker://${target}`,
          ],
          out,
          `push ${target}`,
        );
        const value = readFileSync(digestFile, 'utf8').trim();
        out(`pushed ${target}@${value}\n`);
        return value;
      } finally {
        await runCommand([...b, 'rmi', target], { signal: new AbortController().signal }).catch(() => {});
      }
    });
    return { status: 'succeeded', commit, tag, digest };
  } catch (error) {
    if (signal.aborted) {
      const reason = signal.reason instanceof Error ? signal.reason.message : 'canceled';
      const timedOut = reason.includes('timed out');
      return { status: timedOut ? 'failed' : 'canceled', failedStep: current, error: reason, commit };
    }
    if (error instanceof StepError)
      return { status: 'failed', failedStep: error.step, error: error.message, commit };
    return { status: 'failed', failedStep: current, error: (error as Error).message, commit };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** `path` resolved inside `root`, symlinks followed; undefined when it escapes or is missing. */
function insideRepo(root: string, path: string): string | undefined {
  try {
    const resolved = realpathSync(join(root, path));
    const rel = relative(realpathSync(root), resolved);
    return rel.startsWith('..') || isAbsolute(rel) ? undefined : resolved;
  } catch {
    return undefined;
  }
}

/** The command's own last lines, without buildah's "exited with status" wrapping. */
function lastLines(text: string, n: number): string {
  return text
    .trim()
    .split('\n')
    .filter((line) => !/subprocess exited with status|^Error: exit status|^error building at STEP/.test(line))
    .slice(-n)
    .join(' | ')
    .slice(0, 600);
}

function quoteForLog(arg: string): string {
  return /^[A-Za-z0-9_./:=@,+-]+$/.test(arg) ? arg : JSON.stringify(arg);
}
