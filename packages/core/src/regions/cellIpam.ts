import type { CellIpam } from '@leengine/common';
import { checkLeaks, DEFAULT_GRACE_MS, Ipam } from '@leengine/ipam';
import { KubePodLister } from '@leengine/ipam/kube';
import type { CellClient } from '@leengine/kube';
import type { Etcd3 } from 'etcd3';

/**
 * A cell's IPAM as the boss console shows it: usage per segment, node and block (read
 * from etcd) and the leak check against the cell's pods (what `cnictl check` reports).
 * Read-only: releasing leaked addresses stays with `cnictl release`.
 */
export class CellIpamReader {
  readonly #etcd: Etcd3;
  readonly #graceMs: number;

  private constructor(etcd: Etcd3, graceMs: number) {
    this.#etcd = etcd;
    this.#graceMs = graceMs;
  }

  static create(deps: { etcd: Etcd3; graceMs?: number }): CellIpamReader {
    return new CellIpamReader(deps.etcd, deps.graceMs ?? DEFAULT_GRACE_MS);
  }

  async read(cell: CellClient): Promise<CellIpam> {
    const ipam = Ipam.create({ client: this.#etcd, cell: cell.cell });
    const usage = await ipam.usage();
    let leakCheck: CellIpam['leakCheck'] = null;
    let leakCheckError: string | null = null;
    try {
      const report = await checkLeaks(ipam, KubePodLister.fromConfig(cell.config), {
        graceMs: this.#graceMs,
      });
      leakCheck = {
        checkedAt: report.checkedAt,
        allocations: report.allocations,
        pods: report.pods,
        young: report.young,
        leaks: report.leaks.map((l) => ({
          ip: l.ip,
          reason: l.reason,
          namespace: l.allocation.namespace,
          pod: l.allocation.pod,
          node: l.allocation.node,
          since: l.allocation.createdAt,
        })),
      };
    } catch (error) {
      leakCheckError = `cell ${cell.cell} did not answer: ${(error as Error).message}`;
    }
    return {
      cell: usage.cell,
      revision: usage.revision,
      segments: usage.segments,
      nodes: usage.nodes,
      blocks: usage.blocks,
      leakCheck,
      leakCheckError,
    };
  }
}
