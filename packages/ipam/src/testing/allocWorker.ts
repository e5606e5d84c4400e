// A process simulating some nodes for the concurrency test: each node has its own etcd
// client and fires all its ADDs (the IPAM part) at once. Prints one JSON line per ADD.
//   node allocWorker.ts ETCD_URL CELL PHASE PER_NODE NODE...
import { Etcd3 } from 'etcd3';
import { Ipam } from '../ipam.ts';

const [url = '', cell = '', phase = '', perNodeText = '0', ...nodes] = process.argv.slice(2);
const perNode = Number(perNodeText);
const clients = nodes.map(() => new Etcd3({ hosts: url }));
await Promise.all(
  nodes.map(async (node, n) => {
    // Two allocators per node, as when the node's agent and a plugin run without it (or
    // two agents) work at once: within one the node's ADDs queue, between the two they race.
    const ipams = [0, 1].map(() => Ipam.create({ client: clients[n] as Etcd3, cell }));
    await Promise.all(
      Array.from({ length: perNode }, async (_, i) => {
        const containerId = `${phase}-${node}-${i}`;
        try {
          const { allocation } = await (ipams[i % 2] as Ipam).allocate({
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
for (const c of clients) c.close();
