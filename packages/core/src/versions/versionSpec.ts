import type { VersionSpec } from '@leengine/kube';
import type { SecretBox } from '../crypto/secretBox.ts';
import { requireBox } from '../crypto/secretBox.ts';
import { PULL_SECRET_NAME } from '../pullSecrets/pullCredentials.ts';
import { envContext, type VersionRow } from './versionStore.ts';

/** A version as it runs in one cell: its Deployment's spec, secret values opened. */
export function versionSpec(
  application: string,
  version: VersionRow,
  replicas: number,
  box: SecretBox | undefined,
): VersionSpec {
  const env = version.env.map((e) =>
    e.secret
      ? {
          name: e.name,
          value: requireBox(box).open(e.value, envContext(version.applicationId, version.number, e.name)),
          secret: true,
        }
      : { name: e.name, value: e.value },
  );
  const check = version.healthCheck;
  return {
    application,
    version: version.name,
    image: version.image,
    replicas,
    port: version.port,
    cpu: { requestMillis: version.cpuRequest, limitMillis: version.cpuLimit },
    memory: { requestMiB: version.memoryRequest, limitMiB: version.memoryLimit },
    env,
    ...(check
      ? {
          healthCheck: {
            path: check.path,
            port: check.port ?? version.port,
            initialDelaySeconds: check.initialDelaySeconds,
            periodSeconds: check.periodSeconds,
            timeoutSeconds: check.timeoutSeconds,
            failureThreshold: check.failureThreshold,
            liveness: check.liveness,
          },
        }
      : {}),
    terminationGracePeriodSeconds: version.terminationGraceSeconds,
    ...(version.pullSecret ? { imagePullSecret: PULL_SECRET_NAME } : {}),
  };
}
