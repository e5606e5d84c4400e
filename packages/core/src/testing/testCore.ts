import assert from 'node:assert/strict';
import pino from 'pino';
import { loadConfig } from '../config.ts';
import { Core, type CoreDeps } from '../core.ts';
import { SecretBox } from '../crypto/secretBox.ts';
import { CLIENT_HEADER } from '../http/authHook.ts';
import { ApiClient } from './apiClient.ts';
import { TestClock } from './testClock.ts';

export interface TestCoreOptions {
  /** PostgreSQL URL; without it PGlite in `dataDir` (default in memory). */
  databaseUrl?: string;
  dataDir?: string;
  clock?: TestClock;
  maxFailedLogins?: number;
  /** LEENGINE_SECRET_KEY (default: a fresh random key). */
  secretKey?: string;
  /** REGISTRY_URL: deploys check tags there. */
  registryUrl?: string;
  /** ETCD_ENDPOINTS: with it, upgrades go through the SLB's gate in etcd. */
  etcdEndpoints?: string;
  /** LEENGINE_TRUSTED_PROXIES: proxies whose X-Forwarded-For core believes. */
  trustedProxies?: string;
  gate?: CoreDeps['gate'];
  runtime?: CoreDeps['runtime'];
  /** LEENGINE_VALIDATE_RESPONSES (default true: tests check every answer against its schema). */
  validateResponses?: boolean;
}

/** A listening core on loopback, its first admin signed in with a token. */
export interface TestCore {
  core: Core;
  url: string;
  clock: TestClock;
  /** No credentials. */
  anonymous: ApiClient;
  /** The first admin, by token. */
  admin: ApiClient;
  /** Creates a user (through the API, as admin) and returns a client with their token. */
  user(username: string, options?: { admin?: boolean }): Promise<ApiClient>;
  close(): Promise<void>;
}

export const TEST_PASSWORD = 'correct horse battery staple';

export async function startTestCore(options: TestCoreOptions = {}): Promise<TestCore> {
  const clock = options.clock ?? new TestClock();
  const config = loadConfig({
    LEENGINE_HOST: '127.0.0.1',
    LEENGINE_PORT: '0',
    DATABASE_URL: options.databaseUrl,
    LEENGINE_DATA_DIR: options.dataDir ?? 'memory://',
    LEENGINE_SECRET_KEY: options.secretKey ?? SecretBox.generateKey(),
    REGISTRY_URL: options.registryUrl,
    ETCD_ENDPOINTS: options.etcdEndpoints,
    LEENGINE_TRUSTED_PROXIES: options.trustedProxies,
    // Every answer the tests get was checked against its schema.
    LEENGINE_VALIDATE_RESPONSES: String(options.validateResponses ?? true),
    LOG_LEVEL: 'silent',
  });
  const core = await Core.create(config, {
    logger: pino({ level: process.env.LEENGINE_TEST_LOG ?? 'silent' }),
    clock: clock.clock,
    maxFailedLogins: options.maxFailedLogins,
    ...(options.gate ? { gate: options.gate } : {}),
    ...(options.runtime ? { runtime: options.runtime } : {}),
  });
  try {
    const url = await core.listen();
    const anonymous = new ApiClient(url);
    const first = await core.ensureFirstAdmin();
    const admin = first ? anonymous.as(await tokenFor(anonymous, first.username, first.password)) : anonymous;
    return {
      core,
      url,
      clock,
      anonymous,
      admin,
      user: async (username, userOptions = {}) => {
        const created = await admin.post('/api/v1/users', {
          username,
          password: TEST_PASSWORD,
          admin: userOptions.admin ?? false,
        });
        assert.equal(created.status, 201, `creating user ${username}: ${JSON.stringify(created.body)}`);
        return anonymous.as(await tokenFor(anonymous, username, TEST_PASSWORD));
      },
      close: () => core.close(),
    };
  } catch (error) {
    await core.close();
    throw error;
  }
}

/** Signs in with a password and returns the session cookie ("leengine_session=..."). */
export async function login(client: ApiClient, username: string, password: string): Promise<string> {
  const response = await client
    .withHeaders({ [CLIENT_HEADER]: 'test' })
    .post('/api/v1/session', { username, password });
  assert.equal(response.status, 200, `login ${username}: ${JSON.stringify(response.body)}`);
  const cookie = response.headers.get('set-cookie') ?? '';
  return cookie.split(';')[0] ?? '';
}

/** Signs in and creates a personal access token. */
export async function tokenFor(client: ApiClient, username: string, password: string): Promise<string> {
  const cookie = await login(client, username, password);
  const token = await client.withCookie(cookie).post('/api/v1/user/tokens', { name: 'test' });
  assert.equal(token.status, 201, `token for ${username}: ${JSON.stringify(token.body)}`);
  return token.body.token as string;
}
