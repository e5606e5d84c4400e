// leengine-ipam-agent [--port 7471] [--token-file PATH] [--node NAME]: runs until SIGTERM/SIGINT.
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { IpamAgent } from './agent.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '7471' },
    'token-file': { type: 'string' },
    node: { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: leengine-ipam-agent [--port 7471] [--token-file PATH] [--node NAME] [--log-level LEVEL]\n' +
      '  The per-node agent behind leengine-cni (docs/ipam.md); runs until SIGTERM/SIGINT.\n',
  );
  process.exit(0);
}
const log = pino({ level: values['log-level'], base: { component: 'ipam-agent' } });
const agent = await IpamAgent.start({
  port: Number(values.port),
  log,
  ...(values['token-file'] ? { tokenFile: values['token-file'] } : {}),
  ...(values.node ? { hostname: values.node } : {}),
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    log.info({ signal }, 'ipam agent stopping');
    void agent.close().then(() => process.exit(0));
  });
}
