// leengine-slb-agent --config FILE [--etcd URL] [--bootstrap]
//   Applies an SLB group's etcd prefix to this host's nginx until SIGTERM/SIGINT.
//   --bootstrap only writes the first generation (so that nginx can be started on
//   <root>/live/nginx.conf, e.g. from systemd's ExecStartPre) and exits.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import { AgentSettingsSchema } from './agentSettings.ts';
import { SlbAgent } from './slbAgent.ts';

const USAGE = `usage: leengine-slb-agent --config FILE [--etcd URL] [--bootstrap] [--log-level LEVEL]
  Applies an SLB group's etcd prefix to this host's nginx until SIGTERM/SIGINT.
  --config     JSON agent settings (docs/slb.md)
  --etcd       defaults to $LEENGINE_ETCD, else http://127.0.0.1:2379
  --bootstrap  only write the first generation and exit
`;
const { values } = parseArgs({
  options: {
    config: { type: 'string' },
    etcd: { type: 'string', default: process.env.LEENGINE_ETCD ?? 'http://127.0.0.1:2379' },
    bootstrap: { type: 'boolean', default: false },
    'log-level': { type: 'string', default: 'info' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const log = pino({ level: values['log-level'], base: { component: 'slb-agent' } });
if (!values.config) {
  log.fatal('--config FILE is required (JSON agent settings)');
  process.exit(2);
}
const parsed = AgentSettingsSchema.safeParse(JSON.parse(readFileSync(values.config, 'utf8')));
if (!parsed.success) {
  for (const issue of parsed.error.issues) log.fatal({ path: issue.path.join('.') }, issue.message);
  process.exit(2);
}
if (values.bootstrap) {
  const runtime = await SlbAgent.bootstrap(parsed.data);
  log.info({ config: runtime.liveConfig }, 'bootstrapped; start nginx with -p ROOT -c ROOT/live/nginx.conf');
  process.exit(0);
}
const client = new Etcd3({ hosts: values.etcd.split(',') });
const agent = await SlbAgent.start({ settings: parsed.data, client, log });
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    log.info({ signal }, 'slb agent stopping');
    void agent.stop().then(() => {
      client.close();
      process.exit(0);
    });
  });
}
