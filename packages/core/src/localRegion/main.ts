// `./dev up`: starts a complete local region and keeps it running until Ctrl-C.
import { join } from 'node:path';
import { DomainError } from '@leengine/common';
import pino from 'pino';
import type { FirstAdmin } from '../users/userService.ts';
import { LOCAL_BUILD_AGENT_ID } from './buildAgent.ts';
import { LocalRegion } from './localRegion.ts';

/** Shown once, on the start that created the admin: the password is not stored in clear anywhere. */
function firstAdminNotice(admin: FirstAdmin | null): string {
  if (!admin) return '';
  return (
    `\nFirst admin created (shown only this once; sign in and change the password):\n` +
    `  username     ${admin.username}\n  password     ${admin.password}\n\n`
  );
}

const stateDir = process.env.LEENGINE_STATE_DIR ?? '.leengine';
const logFile = join(stateDir, 'core.log');
// The terminal shows where things are; core's structured log goes to a file.
const logger = pino(
  { level: process.env.LOG_LEVEL ?? 'info', base: { service: 'leengine-core' } },
  pino.destination({ dest: logFile, mkdir: true, sync: false }),
);

try {
  const started = performance.now();
  const region = await LocalRegion.start({ stateDir, env: process.env, logger });
  const e = region.endpoints;
  const rows: [string, string][] = [
    ['core (API)', e.core],
    ['OpenAPI', e.openapi],
    ['database', e.database],
    ['etcd', e.etcd],
    ['registry', e.registry],
    ['nginx (core)', `${e.slb}  -> core`],
    [`SLB ${e.slbGroup.group}`, `${e.slbGroup.http}  -> applications' domains (by Host)`],
    ['SLB metrics', `${e.slbGroup.metrics}/metrics`],
    ...e.cells.map((c): [string, string] => [`cell ${c.name}`, `${c.server}  kubeconfig: ${c.kubeconfig}`]),
    ['build agent', `${LOCAL_BUILD_AGENT_ID}  log: ${join(stateDir, 'build', 'build-agent.log')}`],
  ];
  process.stdout.write(
    `\nLeEngine local region is up (${Math.round(performance.now() - started)} ms)\n` +
      rows.map(([k, v]) => `  ${k.padEnd(12)} ${v}`).join('\n') +
      `\n  state        ${stateDir}/ (endpoints in ${stateDir}/region.json)` +
      `\n  core log     ${logFile}` +
      `\n  SLB logs     ${e.slbGroup.logs.agent}, ${e.slbGroup.logs.discovery}\n` +
      firstAdminNotice(region.firstAdmin) +
      'Press Ctrl-C to stop.\n',
  );
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      process.stdout.write('\nstopping the local region...\n');
      void region.stop().then(() => process.exit(0));
    });
  }
} catch (error) {
  console.error(
    `local region: ${error instanceof DomainError || error instanceof Error ? error.message : error}`,
  );
  process.exit(1);
}
