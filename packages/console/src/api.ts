import type { FieldError, Problem } from '@leengine/common';

/** Every API route the console calls (checked against core's /openapi.json by a test). */
export const ROUTES = [
  'GET /api/v1/user',
  'GET /api/v1/user/activity',
  'GET /api/v1/session',
  'POST /api/v1/session',
  'DELETE /api/v1/session',
  'GET /api/v1/permissions',
  'GET /api/v1/applications',
  'POST /api/v1/applications',
  'GET /api/v1/applications/{name}',
  'GET /api/v1/applications/{name}/access',
  'GET /api/v1/applications/{name}/activity',
  'GET /api/v1/applications/{name}/members',
  'POST /api/v1/applications/{name}/members',
  'PUT /api/v1/applications/{name}/members/{username}',
  'DELETE /api/v1/applications/{name}/members/{username}',
  'GET /api/v1/image-groups',
  'POST /api/v1/image-groups',
  'GET /api/v1/image-groups/{name}',
  'GET /api/v1/image-groups/{group}/repositories',
  'POST /api/v1/image-groups/{group}/repositories',
  'GET /api/v1/image-groups/{group}/repositories/{name}',
  'GET /api/v1/image-repositories',
  'GET /api/v1/build-projects',
  'POST /api/v1/build-projects',
  'GET /api/v1/build-projects/{name}',
  'GET /api/v1/statistics/operations',
  'GET /api/v1/statistics/summary',
  'GET /api/v1/users',
  'POST /api/v1/users',
  'PATCH /api/v1/users/{username}',
  'GET /api/v1/regions',
  'GET /api/v1/regions/{region}/cells/{cell}/capacity',
  'POST /api/v1/regions/{region}/cells/{cell}/cordon',
  'POST /api/v1/regions/{region}/cells/{cell}/uncordon',
  'POST /api/v1/regions/{region}/cells/{cell}/evacuate',
  'GET /api/v1/applications/{name}/versions',
  'POST /api/v1/applications/{name}/versions',
  'GET /api/v1/applications/{name}/versions/new',
  'POST /api/v1/applications/{name}/versions/{version}/scale',
  'POST /api/v1/applications/{name}/rollback',
  'GET /api/v1/applications/{name}/operations',
  'GET /api/v1/applications/{name}/operations/{id}',
  'POST /api/v1/applications/{name}/operations/{id}/abort',
  'GET /api/v1/applications/{name}/containers',
  'GET /api/v1/applications/{name}/cells/{cell}/containers/{pod}/logs',
  'GET /api/v1/applications/{name}/events',
  'GET /api/v1/quotas/default',
  'PUT /api/v1/quotas/default',
  'DELETE /api/v1/applications/{name}',
  'GET /api/v1/applications/{name}/domains',
  'POST /api/v1/applications/{name}/domains',
  'GET /api/v1/applications/{name}/domains/{domain}',
  'PUT /api/v1/applications/{name}/domains/{domain}',
  'DELETE /api/v1/applications/{name}/domains/{domain}',
  'GET /api/v1/applications/{name}/domains/{domain}/nginx',
  'GET /api/v1/slb/groups',
  'PUT /api/v1/slb/groups/{group}',
  'DELETE /api/v1/slb/groups/{group}',
  'GET /api/v1/slb/groups/{group}/agents',
  'GET /api/v1/regions/{region}/cells/{cell}/ipam',
  'GET /api/v1/registry',
  'DELETE /api/v1/image-groups/{name}',
  'GET /api/v1/image-groups/{group}/repositories/{name}/access',
  'DELETE /api/v1/image-groups/{group}/repositories/{name}',
  'GET /api/v1/image-groups/{group}/repositories/{name}/tags',
  'DELETE /api/v1/image-groups/{group}/repositories/{name}/tags/{tag}',
  'DELETE /api/v1/build-projects/{name}',
  'GET /api/v1/build-projects/{name}/access',
  'GET /api/v1/build-projects/{name}/settings',
  'GET /api/v1/build-projects/{name}/builds',
  'POST /api/v1/build-projects/{name}/builds',
  'GET /api/v1/build-projects/{name}/builds/{number}',
  'POST /api/v1/build-projects/{name}/builds/{number}/cancel',
  'GET /api/v1/build-projects/{name}/builds/{number}/logs/stream',
  'GET /api/v1/users/{username}/quota',
  'PUT /api/v1/users/{username}/quota',
  'GET /api/v1/registry/garbage-collections',
  'POST /api/v1/registry/garbage-collections',
  'GET /api/v1/registry/garbage-collections/{id}',
  'GET /api/v1/applications/{name}/fixed-addresses',
  'PUT /api/v1/applications/{name}/fixed-addresses',
  'DELETE /api/v1/applications/{name}/fixed-addresses',
  'PATCH /api/v1/build-projects/{name}',
  'PATCH /api/v1/build-projects/{name}/settings',
  'POST /api/v1/build-projects/{name}/webhook-secret',
  'GET /api/v1/build-projects/{name}/robots',
  'POST /api/v1/build-projects/{name}/robots',
  'DELETE /api/v1/build-projects/{name}/robots/{robot}',
  'GET /api/v1/image-groups/{name}/robots',
  'POST /api/v1/image-groups/{name}/robots',
  'DELETE /api/v1/image-groups/{name}/robots/{robot}',
  'GET /api/v1/user/tokens',
  'POST /api/v1/user/tokens',
  'DELETE /api/v1/user/tokens/{id}',
  'PUT /api/v1/user/password',
] as const;

/** A failed API call, with the problem body core sent (RFC 9457). */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.detail ?? problem.title);
    this.status = problem.status;
    this.problem = problem;
  }

  /** Field errors keyed by the field's path (`name`, `env.0.value`). */
  get fields(): Record<string, string> {
    return Object.fromEntries((this.problem.errors ?? []).map((e: FieldError) => [e.path, e.message]));
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`/api/v1${path}`, {
    method,
    credentials: 'same-origin',
    // Core refuses cookie-authenticated changes without this header (CSRF).
    headers: {
      'x-leengine-client': 'console',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const problem = (json as Problem | undefined) ?? {
      type: 'about:blank',
      title: response.statusText,
      status: response.status,
    };
    throw new ApiError(problem);
  }
  return json as T;
}

/** Query string from defined values only. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}` : '';
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {}),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  delete: <T>(path: string) => request<T>('DELETE', path),
};

/** Path segment, encoded: names are validated by the API, but the console never trusts that. */
export const seg = encodeURIComponent;
