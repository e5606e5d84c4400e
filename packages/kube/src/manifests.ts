import { createHash } from 'node:crypto';
import type {
  V1Deployment,
  V1EnvVar,
  V1Namespace,
  V1Probe,
  V1Secret,
  V1Service,
} from '@kubernetes/client-node';
import { ANNOTATIONS, LABELS, MANAGED_BY } from './labels.ts';

/** An HTTP health check: the readiness probe, and the liveness probe too when asked. */
export interface HealthCheck {
  path: string;
  port: number;
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  failureThreshold: number;
  liveness: boolean;
}

export interface EnvVar {
  name: string;
  value: string;
  /** Secret values go into the version's Secret, never into the Deployment. */
  secret?: boolean;
}

/** One deployable revision of an application, as it runs in one cell. */
export interface VersionSpec {
  application: string;
  /** DNS label, unique within the application; the Deployment's name. */
  version: string;
  image: string;
  replicas: number;
  /** Container port the Service and the SLB send traffic to. */
  port: number;
  cpu: { requestMillis: number; limitMillis: number };
  memory: { requestMiB: number; limitMiB: number };
  env: EnvVar[];
  healthCheck?: HealthCheck;
  /** Seconds between SIGTERM and SIGKILL. */
  terminationGracePeriodSeconds?: number;
  /** The namespace's Secret the kubelet pulls the image with (see `pullSecretManifest`). */
  imagePullSecret?: string;
}

function managed(application: string, extra: Record<string, string> = {}): Record<string, string> {
  return { [LABELS.managedBy]: MANAGED_BY, [LABELS.application]: application, ...extra };
}

/** The application's namespace: the same name in every cell. */
export function namespaceManifest(application: string): V1Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: application, labels: managed(application) },
  };
}

/**
 * The application's one Service, selecting every version's pods by the application
 * label; discovery reads its EndpointSlices. Headless: traffic goes through the SLB to
 * pod IPs, not through a ClusterIP. The target is the pods' port named `http`, so
 * versions with different container ports all resolve to their own. Before the first
 * version there is no port yet.
 */
export function serviceManifest(application: string, port?: number): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: application, namespace: application, labels: managed(application) },
    spec: {
      clusterIP: 'None',
      selector: { [LABELS.application]: application },
      ports: port === undefined ? [] : [{ name: 'http', port, targetPort: 'http', protocol: 'TCP' }],
      publishNotReadyAddresses: false,
    },
  };
}

/**
 * A registry credential for the application's pods (`kubernetes.io/dockerconfigjson`):
 * the kubelet hands it to containerd for pulls from `registryHost`.
 */
export function pullSecretManifest(
  application: string,
  name: string,
  registry: { host: string; username: string; password: string },
): V1Secret {
  const auth = Buffer.from(`${registry.username}:${registry.password}`).toString('base64');
  const config = {
    auths: { [registry.host]: { username: registry.username, password: registry.password, auth } },
  };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: application, labels: managed(application) },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(JSON.stringify(config)).toString('base64') },
  };
}

function secretName(spec: VersionSpec): string {
  return `${spec.version}-env`;
}

/** The version's secret env values, or undefined when it has none. */
export function secretManifest(spec: VersionSpec): V1Secret | undefined {
  const secrets = spec.env.filter((e) => e.secret);
  if (secrets.length === 0) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: secretName(spec),
      namespace: spec.application,
      labels: managed(spec.application, { [LABELS.version]: spec.version }),
    },
    type: 'Opaque',
    stringData: Object.fromEntries(secrets.map((e) => [e.name, e.value])),
  };
}

function probe(check: HealthCheck): V1Probe {
  return {
    httpGet: { path: check.path, port: check.port, scheme: 'HTTP' },
    initialDelaySeconds: check.initialDelaySeconds,
    periodSeconds: check.periodSeconds,
    timeoutSeconds: check.timeoutSeconds,
    failureThreshold: check.failureThreshold,
    successThreshold: 1,
  };
}

function envVars(spec: VersionSpec): V1EnvVar[] {
  return spec.env.map((e) =>
    e.secret
      ? { name: e.name, valueFrom: { secretKeyRef: { name: secretName(spec), key: e.name } } }
      : { name: e.name, value: e.value },
  );
}

/**
 * A short hash of everything in a version's spec but its replicas: a Deployment whose
 * annotation carries it needs no apply unless its replicas differ.
 */
export function specHash(spec: VersionSpec): string {
  const { replicas: _, ...rest } = spec;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 16);
}

/** One Deployment per version per cell, named after the version. */
export function deploymentManifest(spec: VersionSpec): V1Deployment {
  const labels = managed(spec.application, { [LABELS.version]: spec.version });
  const selector = { [LABELS.application]: spec.application, [LABELS.version]: spec.version };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: spec.version,
      namespace: spec.application,
      labels,
      annotations: { [ANNOTATIONS.specHash]: specHash(spec) },
    },
    spec: {
      replicas: spec.replicas,
      selector: { matchLabels: selector },
      // A version's pod template never changes after deploy (a change is a new version),
      // so the strategy only matters for restarts.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds ?? 30,
          enableServiceLinks: false,
          automountServiceAccountToken: false,
          ...(spec.imagePullSecret ? { imagePullSecrets: [{ name: spec.imagePullSecret }] } : {}),
          containers: [
            {
              name: 'app',
              image: spec.image,
              ports: [{ name: 'http', containerPort: spec.port, protocol: 'TCP' }],
              env: envVars(spec),
              resources: {
                requests: { cpu: `${spec.cpu.requestMillis}m`, memory: `${spec.memory.requestMiB}Mi` },
                limits: { cpu: `${spec.cpu.limitMillis}m`, memory: `${spec.memory.limitMiB}Mi` },
              },
              ...(spec.healthCheck ? { readinessProbe: probe(spec.healthCheck) } : {}),
              ...(spec.healthCheck?.liveness ? { livenessProbe: probe(spec.healthCheck) } : {}),
            },
          ],
        },
      },
    },
  };
}
