import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ipam } from '@leengine/ipam';
import { leengineCellCni } from '@leengine/ipam/cell';
import { startAgentProcess } from '@leengine/ipam/testing';
import type { CellCni, ComponentHandle, EtcdHandle, Testbed } from '@leengine/testbed';

/** What `testbed.cell(...)` takes to put a local cell's pods on leengine-cni. */
export interface LocalCellNetwork {
  cni: CellCni;
  /** The cell's pod subnet, 10.88.<n>.0/24, when it already has a segment from an earlier start. */
  podSubnetIndex?: number;
}

const POD_SEGMENT = /^10\.88\.(\d{1,3})\.0\/24$/;

/**
 * A local cell's container network: leengine-cni with one IPAM agent for the cell's node
 * (started here, stopped with the testbed), the addresses in the region's etcd. The
 * cell's segment is its pod subnet (10.88.<n>.0/24, on the node's bridge `lecell<n>`,
 * under the `unreachable` route covering 10.88.0.0/16); once recorded in etcd, later
 * starts ask the testbed for that same subnet, so the cell keeps its segment, its
 * fixed pools and its addresses across restarts.
 */
export async function localCellNetwork(options: {
  testbed: Testbed;
  etcd: EtcdHandle;
  cell: string;
  /** The cell's state dir (kept between runs). */
  dir: string;
}): Promise<LocalCellNetwork> {
  const client = options.etcd.client();
  let podSubnetIndex: number | undefined;
  try {
    const segments = await Ipam.create({ client, cell: options.cell }).listSegments();
    const index = segments.map((s) => POD_SEGMENT.exec(s.cidr)?.[1]).find((i) => i !== undefined);
    podSubnetIndex = index === undefined ? undefined : Number(index);
  } finally {
    client.close();
  }
  const agentDir = join(options.dir, 'ipam-agent');
  mkdirSync(agentDir, { recursive: true });
  const node = `${options.cell}-node`;
  const agent = await options.testbed.add(
    startAgentProcess({ node, dir: agentDir, logLevel: 'info' }).then(
      ({ proc, port, tokenFile }): ComponentHandle & { port: number; tokenFile: string } => ({
        component: `ipam-agent ${node}`,
        dir: agentDir,
        process: proc,
        startupMs: 0,
        logTail: (lines) => proc.tail(lines),
        stop: () => proc.stop(),
        [Symbol.asyncDispose]: () => proc.stop(),
        port,
        tokenFile,
      }),
    ),
  );
  const cni = leengineCellCni({
    etcdEndpoints: [options.etcd.url],
    binDir: join(options.dir, 'cni-bin'),
    agentPort: agent.port,
    agentTokenFile: agent.tokenFile,
  });
  return podSubnetIndex === undefined ? { cni } : { cni, podSubnetIndex };
}
