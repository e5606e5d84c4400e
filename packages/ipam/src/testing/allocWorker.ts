// A process simulating some nodes, for the concurrency test and bench/ipam: each node
// has its own etcd client and fires all its ADDs (the IPAM part) at once. Prints one
// JSON line per ADD, then `done`.
//   node allocWorker.ts ETCD_URL CELL PHASE PER_NODE ALLOCATORS_PER_NODE NODE...
// With ALLOC_WORKER_BARRIER=1 it connects, prints `ready` and waits for a line on stdin
// before starting, so several workers can start together.
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Etcd3 } from 'etcd3';
import { Ipam } from '../ipam.ts';

const [url = '', cell = '', phase = '', perNodeText = '0', allocatorsText = '1', ...nodes] =
  process.argv.slice(2);
const perNode = Number(perNodeText);
const clients = nodes.map(() => new Etcd3({ hosts: url }));
// Several allocators per node stand for the node's agent and plugin runs without it (or
// two agents) working at once: within one, the node's ADDs queue; between them they race.
const allocators = nodes.map((_, n) =>
  Array.from({ length: Number(allocatorsText) }, () => Ipam.create({ client: clients[n] as Etcd3, cell })),
);
if (process.env.ALLOC_WORKER_BARRIER === '1') {
  await Promise.all(clients.map((c) => c.get('/leengine/connect').string()));
  process.stdout.write('ready\n');
  await once(createInterface({ input: process.stdin }), 'line');
}
await Promise.all(
  nodes.map(async (node, n) => {
    const mine = allocators[n] as Ipam[];
    await Promise.all(
      Array.from({ length: perNode }, async (_, i) => {
        const containerId = `${phase}-${node}-${i}`;
        try {
          const { allocation } = await (mine[i % mine.length] as Ipam).allocate({
            attachment: { containerId, ifname: 'eth0' },
            pod: { namespace: 'load', name: containerId },
            node,
          });
          process.stdout.write(`${JSON.stringify({ node, containerId, ip: allocation.value.ip })}\n`);
        } catch (error) {
          const e = error as Error;
          process.stdout.write(
            `${JSON.stringify({ node, containerId, error: e.name, message: e.message })}\n`,
          );
        }
      }),
    );
  }),
);
process.stdout.write('done\n');
for (const c of clients) c.close();
process.exit(0);
