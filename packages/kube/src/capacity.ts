import type { CoreV1Api, V1Container, V1Node, V1Pod } from '@kubernetes/client-node';
import { cpuMillicores, memoryMib } from './quantity.ts';

export interface Resources {
  cpuMillicores: number;
  memoryMib: number;
}

/** One node: what it offers the scheduler and what running pods have asked for. */
export interface NodeCapacity {
  name: string;
  ready: boolean;
  /** Cordoned in Kubernetes (spec.unschedulable). */
  unschedulable: boolean;
  allocatable: Resources & { pods: number };
  requested: Resources;
  pods: number;
}

/** A cell's capacity: per node and in total (ready, schedulable nodes only in `total`). */
export interface CellCapacity {
  nodes: NodeCapacity[];
  total: { allocatable: Resources & { pods: number }; requested: Resources; pods: number };
}

function containerRequests(containers: V1Container[] | undefined): Resources[] {
  return (containers ?? []).map((c) => ({
    cpuMillicores: cpuMillicores(c.resources?.requests?.cpu),
    memoryMib: memoryMib(c.resources?.requests?.memory),
  }));
}

/** What the scheduler counts for a pod: the larger of its containers' sum and its largest init container. */
export function podRequests(pod: V1Pod): Resources {
  const sum = containerRequests(pod.spec?.containers).reduce(
    (a, b) => ({ cpuMillicores: a.cpuMillicores + b.cpuMillicores, memoryMib: a.memoryMib + b.memoryMib }),
    { cpuMillicores: 0, memoryMib: 0 },
  );
  for (const init of containerRequests(pod.spec?.initContainers)) {
    sum.cpuMillicores = Math.max(sum.cpuMillicores, init.cpuMillicores);
    sum.memoryMib = Math.max(sum.memoryMib, init.memoryMib);
  }
  sum.cpuMillicores += cpuMillicores(pod.spec?.overhead?.cpu);
  sum.memoryMib += memoryMib(pod.spec?.overhead?.memory);
  return sum;
}

function nodeReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Reads nodes and the pods that hold resources (not finished) and adds them up. */
export async function readCapacity(core: CoreV1Api): Promise<CellCapacity> {
  const [nodes, pods] = await Promise.all([
    core.listNode(),
    core.listPodForAllNamespaces({ fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' }),
  ]);
  const byNode = new Map<string, NodeCapacity>();
  for (const node of nodes.items) {
    const allocatable = node.status?.allocatable ?? {};
    const name = node.metadata?.name ?? '';
    byNode.set(name, {
      name,
      ready: nodeReady(node),
      unschedulable: node.spec?.unschedulable === true,
      allocatable: {
        cpuMillicores: cpuMillicores(allocatable.cpu),
        memoryMib: memoryMib(allocatable.memory),
        pods: Number(allocatable.pods ?? 0) || 0,
      },
      requested: { cpuMillicores: 0, memoryMib: 0 },
      pods: 0,
    });
  }
  for (const pod of pods.items) {
    const node = byNode.get(pod.spec?.nodeName ?? '');
    if (!node) continue; // not scheduled yet
    const requests = podRequests(pod);
    node.requested.cpuMillicores += requests.cpuMillicores;
    node.requested.memoryMib += requests.memoryMib;
    node.pods++;
  }
  const list = [...byNode.values()].sort((a, b) => a.name.localeCompare(b.name));
  const usable = list.filter((n) => n.ready && !n.unschedulable);
  const add = (pick: (n: NodeCapacity) => number) => usable.reduce((s, n) => s + pick(n), 0);
  return {
    nodes: list,
    total: {
      allocatable: {
        cpuMillicores: add((n) => n.allocatable.cpuMillicores),
        memoryMib: add((n) => n.allocatable.memoryMib),
        pods: add((n) => n.allocatable.pods),
      },
      requested: {
        cpuMillicores: add((n) => n.requested.cpuMillicores),
        memoryMib: add((n) => n.requested.memoryMib),
      },
      pods: add((n) => n.pods),
    },
  };
}
