import type { Version } from '@leengine/common';
import type { VersionCellRow, VersionRow } from './versionStore.ts';

/** The API form: secret values never leave core. */
export function toVersion(row: VersionRow, observed: VersionCellRow[]): Version {
  return {
    name: row.name,
    number: row.number,
    image: {
      repository: row.imageRepository,
      tag: row.imageTag,
      reference: row.image,
    },
    port: row.port,
    cpu: { requestMillicores: row.cpuRequest, limitMillicores: row.cpuLimit },
    memory: { requestMib: row.memoryRequest, limitMib: row.memoryLimit },
    env: row.env.map((e) => ({ name: e.name, value: e.secret ? null : e.value, secret: e.secret })),
    healthCheck: row.healthCheck ? { ...row.healthCheck, port: row.healthCheck.port ?? row.port } : null,
    terminationGracePeriodSeconds: row.terminationGraceSeconds,
    instances: row.replicas,
    state: row.state,
    status: observed
      .filter((o) => o.versionId === row.id)
      .map((o) => ({
        cell: o.cell,
        desired: o.desired,
        ready: o.ready,
        exists: o.present,
        observedAt: o.observedAt.toISOString(),
      })),
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
  };
}
