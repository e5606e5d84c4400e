// leengine-ipam-agent --socket PATH [--node NAME]: runs until SIGTERM/SIGINT.
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { IpamAgent } from './agent.ts';

const { values } = parseArgs({
  options: {
    socket: { type: 'string', default: '/run/leengine/ipam-agent.sock' },
    node: { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
  },
});
const log = pino({ level: values['log-level'], base: { component: 'ipam-agent' } });
const agent = await IpamAgent.start({
  socket: values.socket,
  log,
  ...(values.node ? { hostname: values.node } : {}),
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    log.info({ signal }, 'ipam agent stopping');
    void agent.close().then(() => process.exit(0));
  });
}
