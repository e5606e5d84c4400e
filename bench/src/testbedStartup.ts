// bench/testbed-startup: time from "start" to "ready" for each real component alone,
// and for all four started together (the target: all ready in under 5 s, warm).
import { type ComponentHandle, startEtcd, startNginx, startPostgres, startRegistry } from '@leengine/testbed';
import { figure, isQuick, quantile, timed } from './stats.ts';

const rounds = isQuick() ? 2 : 10;
const starters: Record<string, () => Promise<ComponentHandle>> = {
  etcd: () => startEtcd(),
  postgres: () => startPostgres(),
  nginx: () => startNginx(),
  registry: () => startRegistry(),
};

async function startAndStop(start: () => Promise<ComponentHandle>): Promise<number> {
  let handle: ComponentHandle | undefined;
  const ms = await timed(async () => {
    handle = await start();
  });
  await handle?.stop();
  return ms;
}

async function allTogether(): Promise<number> {
  let handles: ComponentHandle[] = [];
  const ms = await timed(async () => {
    handles = await Promise.all(Object.values(starters).map((s) => s()));
  });
  await Promise.all(handles.map((h) => h.stop()));
  return ms;
}

// Warm-up: the first start makes caches (PostgreSQL's initdb template) and warms the page cache.
await allTogether();

for (const [name, start] of Object.entries(starters)) {
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) samples.push(await startAndStop(start));
  figure(`${name}_ready`, Math.round(quantile(samples, 0.5)), 'ms');
}
const together: number[] = [];
for (let i = 0; i < rounds; i++) together.push(await allTogether());
figure('testbed_all_ready', Math.round(quantile(together, 0.5)), 'ms');
figure('testbed_all_ready_max', Math.round(Math.max(...together)), 'ms');
