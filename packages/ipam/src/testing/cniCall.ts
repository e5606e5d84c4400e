// Runs the real plugin executable (bin/leengine-cni) the way a runtime does: config on
// stdin, CNI_* in an otherwise empty environment (no PATH, no HOME).
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const PLUGIN = resolve(import.meta.dirname, '../../bin/leengine-cni');
export const AGENT = resolve(import.meta.dirname, '../../bin/leengine-ipam-agent');
export const CNICTL = resolve(import.meta.dirname, '../../bin/cnictl');

export interface CniCallResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed, when it is JSON. */
  json: Record<string, unknown> | undefined;
}

export interface CniCall {
  command?: string;
  containerId?: string;
  netns?: string;
  ifname?: string;
  args?: string;
  /** The config: an object (serialised) or raw text. */
  config: unknown;
  /** Replaces the CNI_* environment entirely when given. */
  env?: Record<string, string>;
  /** Another plugin executable (default: bin/leengine-cni), e.g. the reference chain's bridge. */
  plugin?: string;
}

export function callPlugin(call: CniCall, timeoutMs = 120_000): Promise<CniCallResult> {
  const env = call.env ?? {
    ...(call.command ? { CNI_COMMAND: call.command } : {}),
    ...(call.containerId ? { CNI_CONTAINERID: call.containerId } : {}),
    ...(call.netns ? { CNI_NETNS: call.netns } : {}),
    CNI_IFNAME: call.ifname ?? 'eth0',
    CNI_PATH: '/usr/lib/cni',
    ...(call.args ? { CNI_ARGS: call.args } : {}),
  };
  const stdin = typeof call.config === 'string' ? call.config : JSON.stringify(call.config);
  return new Promise((done, fail) => {
    const child = spawn(call.plugin ?? PLUGIN, [], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', fail);
    child.on('close', (code) => {
      let json: Record<string, unknown> | undefined;
      try {
        json = stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : undefined;
      } catch {
        json = undefined;
      }
      done({ code, stdout, stderr, json });
    });
    child.stdin.end(stdin);
  });
}

/** The first address of an ADD result, e.g. `10.244.101.5`. */
export function resultIp(result: CniCallResult): string {
  const ips = result.json?.ips as { address: string }[] | undefined;
  const address = ips?.[0]?.address;
  if (!address) throw new Error(`no address in result: ${result.stdout} ${result.stderr}`);
  return address.split('/')[0] as string;
}
