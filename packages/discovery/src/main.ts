// leengine-discovery --etcd URL (--cell NAME=KUBECONFIG ... | --cells-dir DIR)
//   Watches every cell and keeps the SLB domains' upstreams in etcd until SIGTERM/SIGINT.
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import { CELL_NAME, CellsDirWatch } from './cellsDir.ts';
import { Discovery } from './discovery.ts';

const USAGE = `usage: leengine-discovery [--etcd URL] (--cell NAME=KUBECONFIG [--cell ...] | --cells-dir DIR) [--log-level LEVEL]
  Watches every cell and keeps the SLB domains' upstreams in etcd until SIGTERM/SIGINT.
  --cells-dir: one <cell>.kubeconfig file per cell of the region, followed while running
    (a new file adds a cell, a removed one removes it, a changed one reconnects; write a
    file beside and rename it over the old one).
  --etcd defaults to $LEENGINE_ETCD, else http://127.0.0.1:2379.
`;
const { values } = parseArgs({
  options: {
    etcd: { type: 'string', default: process.env.LEENGINE_ETCD ?? 'http://127.0.0.1:2379' },
    cell: { type: 'string', multiple: true, default: [] },
    'cells-dir': { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const log = pino({ level: values['log-level'], base: { component: 'discovery' } });
const cellsDir = values['cells-dir'];
if ((values.cell.length === 0) === (cellsDir === undefined)) {
  log.fatal('give either --cell NAME=KUBECONFIG (one or more) or --cells-dir DIR');
  process.exit(2);
}
const cells = values.cell.map((spec) => {
  const [name, path] = spec.split('=');
  if (!name || !path || !CELL_NAME.test(name)) {
    log.fatal({ cell: spec }, '--cell must be NAME=KUBECONFIG with a DNS-label name');
    process.exit(2);
  }
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromFile(path);
  } catch (error) {
    log.fatal({ cell: name, path, err: error }, 'cannot read the kubeconfig');
    process.exit(2);
  }
  return { name, kubeConfig };
});
const client = new Etcd3({ hosts: values.etcd.split(',') });
const discovery = Discovery.start({ client, cells, log });
const dirWatch = cellsDir
  ? await CellsDirWatch.start({ dir: cellsDir, apply: (next) => discovery.setCells(next), log }).catch(
      (error: unknown) => {
        log.fatal({ err: error, dir: cellsDir }, 'cannot follow the cells dir');
        process.exit(2);
      },
    )
  : undefined;
log.info({ cells: discovery.cells, cellsDir }, 'discovery started');
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void (dirWatch?.stop() ?? Promise.resolve())
      .then(() => discovery.stop())
      .then(() => {
        client.close();
        process.exit(0);
      });
  });
}
