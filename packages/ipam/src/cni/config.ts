import { z } from 'zod';
import { CniCode, CniError } from './cniError.ts';

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

const IFNAME = /^[A-Za-z0-9_.@+=-]{1,15}$/;

/**
 * The network configuration the runtime passes on stdin (one plugin of a conflist, with
 * `name` and `cniVersion` filled in by the runtime). Unknown keys are kept: runtimes add
 * `runtimeConfig`, `args`, `prevResult` and the like.
 */
export const NetConfSchema = z.looseObject({
  cniVersion: z.enum(SUPPORTED_VERSIONS),
  name: z.string().min(1),
  type: z.string().min(1),
  /** The cell (Kubernetes cluster) this node belongs to: its IPAM keys in etcd. */
  cell: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a DNS label'),
  etcd: z.object({ endpoints: z.array(z.url()).min(1) }),
  /** This node's name (default: the host name). */
  nodeName: z.string().min(1).optional(),
  /** The bridge the host ends of the veth pairs are attached to. */
  bridge: z.string().regex(IFNAME, 'must be a valid interface name').default('leengine0'),
  /** `linux` (default) or `ovs` (Open vSwitch, as the seed used; needs ovs-vsctl). */
  bridgeKind: z.enum(['linux', 'ovs']).default('linux'),
  /**
   * Put each segment's gateway address on the bridge. For a single host or a test cell,
   * where the host itself routes for the pods; off in a real L2 network whose router
   * owns the gateway.
   */
  gatewayOnBridge: z.boolean().default(false),
  mtu: z.number().int().min(576).max(65535).default(1500),
  /** Send a gratuitous ARP from the pod when its interface comes up (arp_notify). */
  gratuitousArp: z.boolean().default(false),
  /** The node agent's loopback port; the wrapper uses the agent when it answers (see docs/ipam.md). */
  agentPort: z.number().int().min(1).max(65535).optional(),
  /** The agent's token file (default /run/leengine/ipam-agent-<port>.token). */
  agentTokenFile: z
    .string()
    .regex(/^\/[A-Za-z0-9._/-]+$/, 'must be an absolute path of plain characters')
    .optional(),
  /** GC leaves allocations younger than this alone (default 60 s): their ADD may still run. */
  gcGraceSeconds: z.number().min(0).optional(),
  /** GC (CNI 1.1): every attachment the runtime still has. */
  'cni.dev/valid-attachments': z
    .array(z.looseObject({ containerID: z.string(), ifname: z.string() }))
    .optional(),
  prevResult: z.unknown().optional(),
});
export type NetConf = z.infer<typeof NetConfSchema>;

/** Parses stdin into a NetConf, or throws the CniError the spec asks for. */
export function parseNetConf(stdin: string): NetConf {
  let json: unknown;
  try {
    json = JSON.parse(stdin);
  } catch (error) {
    throw new CniError(
      CniCode.decodeFailure,
      'network config on stdin is not JSON',
      (error as Error).message,
    );
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CniError(CniCode.decodeFailure, 'network config on stdin is not a JSON object');
  }
  const version = (json as { cniVersion?: unknown }).cniVersion;
  if (typeof version === 'string' && !(SUPPORTED_VERSIONS as readonly string[]).includes(version)) {
    throw new CniError(
      CniCode.incompatibleVersion,
      `CNI version ${version} is not supported`,
      `supported: ${SUPPORTED_VERSIONS.join(', ')}`,
    );
  }
  const parsed = NetConfSchema.safeParse(json);
  if (!parsed.success) {
    const details = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new CniError(CniCode.invalidConfig, 'invalid network config', details);
  }
  return parsed.data;
}

/** The version to answer in: the config's if it is one we speak, else the newest. */
export function answerVersion(stdin: string): string {
  try {
    const version = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
    if (typeof version === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(version))
      return version;
  } catch {
    // fall through: an unreadable config still gets an answer
  }
  return '1.1.0';
}
