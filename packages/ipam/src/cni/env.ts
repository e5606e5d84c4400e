import { CniCode, CniError } from './cniError.ts';

export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'VERSION', 'GC', 'STATUS'] as const;
export type CniCommand = (typeof COMMANDS)[number];

/** The CNI_* variables of one invocation, checked. */
export interface CniEnv {
  command: CniCommand;
  containerId: string;
  netns: string;
  ifname: string;
  /** CNI_ARGS as key/value pairs (K8S_POD_NAMESPACE, K8S_POD_NAME, K8S_POD_UID, ...). */
  args: Record<string, string>;
}

const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
// The spec forbids '/', ':' and whitespace; we also keep to characters that need no
// quoting, because the name goes into iproute2 batch lines.
const IFNAME = /^[A-Za-z0-9_.@+=-]{1,15}$/;

const REQUIRED: Record<CniCommand, readonly ('CNI_CONTAINERID' | 'CNI_NETNS' | 'CNI_IFNAME' | 'CNI_PATH')[]> =
  {
    ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
    DEL: ['CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_PATH'],
    CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
    VERSION: [],
    GC: ['CNI_PATH'],
    STATUS: ['CNI_PATH'],
  };

/** Reads the CNI_* variables; a missing or malformed one is error 4 naming it. */
export function parseCniEnv(env: Record<string, string | undefined>): CniEnv {
  const command = env.CNI_COMMAND;
  if (!command || !(COMMANDS as readonly string[]).includes(command)) {
    throw new CniError(
      CniCode.invalidEnvironment,
      command ? `unknown CNI_COMMAND ${JSON.stringify(command)}` : 'CNI_COMMAND is not set',
      `expected one of ${COMMANDS.join(', ')}`,
    );
  }
  const cmd = command as CniCommand;
  for (const name of REQUIRED[cmd]) {
    if (!env[name]) throw new CniError(CniCode.invalidEnvironment, `${name} is not set (needed for ${cmd})`);
  }
  const containerId = env.CNI_CONTAINERID ?? '';
  if (containerId && !CONTAINER_ID.test(containerId)) {
    throw new CniError(
      CniCode.invalidEnvironment,
      `CNI_CONTAINERID ${JSON.stringify(containerId)} is malformed`,
    );
  }
  const ifname = env.CNI_IFNAME ?? '';
  if (ifname && (!IFNAME.test(ifname) || ifname === '.' || ifname === '..')) {
    throw new CniError(
      CniCode.invalidEnvironment,
      `CNI_IFNAME ${JSON.stringify(ifname)} is not a valid interface name`,
    );
  }
  const netns = env.CNI_NETNS ?? '';
  if (netns && !netns.startsWith('/')) {
    throw new CniError(
      CniCode.invalidEnvironment,
      `CNI_NETNS ${JSON.stringify(netns)} is not an absolute path`,
    );
  }
  return { command: cmd, containerId, netns, ifname, args: parseCniArgs(env.CNI_ARGS ?? '') };
}

/** `K=V;K2=V2` into an object; malformed pairs are error 4. */
export function parseCniArgs(text: string): Record<string, string> {
  const args: Record<string, string> = {};
  for (const pair of text.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new CniError(CniCode.invalidEnvironment, `CNI_ARGS has a malformed pair ${JSON.stringify(pair)}`);
    args[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return args;
}
