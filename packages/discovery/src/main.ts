// leengine-discovery --etcd URL --cell NAME=KUBECONFIG [--cell ...]
//   Watches every cell and keeps the SLB domains' upstreams in etcd until SIGTERM/SIGINT.
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import { Discovery } from './discovery.ts';

const USAGE = `usage: leengine-discovery [--etcd URL] --cell NAME=KUBECONFIG [--cell ...] [--log-level LEVEL]
  Watches every cell and keeps the SLB domains' upstreams in etcd until SIGTERM/SIGINT.
  --etcd defaults to $LEENGINE_ETCD, else http://127.0.0.1:2379.
`;
const { values } = parseArgs({
  options: {
    etcd: { type: 'string', default: process.env.LEENGINE_ETCD ?? 'http://127.0.0.1:2379' },
    cell: { type: 'string', multiple: true, default: [] },
    'log-level': { type: 'string', default: 'info' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const log = pino({ level: values['log-level'], base: { component: 'discovery' } });
const cells = values.cell.map((spec) => {
  const [name, path] = spec.split('=');
  if (!name || !path || !/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) {
    log.fatal({ cell: spec }, '--cell must be NAME=KUBECONFIG with a DNS-label name');
    process.exit(2);
  }
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(path);
  return { name, kubeConfig };
});
if (cells.length === 0) {
  log.fatal('at least one --cell NAME=KUBECONFIG is needed');
  process.exit(2);
}
const client = new Etcd3({ hosts: values.etcd.split(',') });
const discovery = Discovery.start({ client, cells, log });
log.info({ cells: cells.map((c) => c.name) }, 'discovery started');
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void discovery.stop().then(() => {
      client.close();
      process.exit(0);
    });
  });
}
