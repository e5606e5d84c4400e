import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, type RegistryHandle, type Testbed } from '@leengine/testbed';
import pino, { type Logger } from 'pino';
import { loadConfig } from '../config.ts';
import { Core, type CoreDeps } from '../core.ts';
import type { RegistryMaintenance } from '../registry/registryMaintenance.ts';
import { EVENTS_PATH, TOKEN_PATH } from '../registry/registryRoutes.ts';
import { TokenSigner } from '../registry/tokenSigner.ts';
import { ApiClient } from './apiClient.ts';
import { TEST_PASSWORD, tokenFor } from './testCore.ts';

/** A core and the real registry trusting it: token auth at core, notifications to core. */
export interface RegistryCore {
  core: Core;
  url: string;
  registry: RegistryHandle;
  /** Moves core's clock by `ms` from real time (0: back to real time). */
  shiftClock(ms: number): void;
  /** The signing key's directory (key.pem, cert.pem). */
  keyDir: string;
  /** The signer core uses (tests forge tokens with it). */
  signer: TokenSigner;
  anonymous: ApiClient;
  admin: ApiClient;
  /** Creates a user with TEST_PASSWORD; returns their client (by token) and the token. */
  user(username: string, options?: { admin?: boolean }): Promise<{ api: ApiClient; token: string }>;
  /** Stops core (the registry stays up); its database must outlive it (`LEENGINE_DATA_DIR` on disk). */
  stopCore(): Promise<void>;
  /** Starts core again on the same port, database and signing key; `core` is the new one. */
  startCore(): Promise<Core>;
  close(): Promise<void>;
}

export const REGISTRY_SERVICE = 'leengine-registry';
export const REGISTRY_ISSUER = 'leengine-core';

/**
 * Starts the registry first (its realm points at a port picked for core), then core on
 * that port: the registry only calls core for notifications, which it retries.
 */
export async function startRegistryCore(
  testbed: Testbed,
  options: {
    env?: Record<string, string>;
    logger?: Logger;
    databaseUrl?: string;
    runtime?: CoreDeps['runtime'];
    /** How core maintains the registry (garbage collection); default: none (503). */
    maintenance?: (registry: RegistryHandle) => RegistryMaintenance;
  } = {},
): Promise<RegistryCore> {
  const keyDir = mkdtempSync(join(tmpdir(), 'leengine-token-'));
  const signer = TokenSigner.fromDir(keyDir);
  const [port] = (await freePorts(1)) as [number];
  const secret = randomBytes(24).toString('hex');
  const coreUrl = `http://127.0.0.1:${port}`;
  const registry = await testbed.registry({
    auth: {
      realm: `${coreUrl}${TOKEN_PATH}`,
      service: REGISTRY_SERVICE,
      issuer: REGISTRY_ISSUER,
      rootCertBundle: join(keyDir, 'cert.pem'),
    },
    notifications: [
      {
        name: 'leengine-core',
        url: `${coreUrl}${EVENTS_PATH}`,
        headers: { Authorization: [`Bearer ${secret}`] },
        timeout: '5s',
        threshold: 3,
        backoff: '1s',
      },
    ],
  });
  // Real time, so the registry (which checks exp and nbf with its own clock) agrees.
  let offsetMs = 0;
  const config = loadConfig({
    LEENGINE_HOST: '127.0.0.1',
    LEENGINE_PORT: String(port),
    DATABASE_URL: options.databaseUrl,
    LEENGINE_DATA_DIR: 'memory://',
    LEENGINE_VALIDATE_RESPONSES: 'true',
    LOG_LEVEL: 'silent',
    REGISTRY_URL: registry.url,
    REGISTRY_TOKEN_KEY_DIR: keyDir,
    REGISTRY_NOTIFICATION_SECRET: secret,
    ...options.env,
  });
  const deps: CoreDeps = {
    logger: options.logger ?? pino({ level: 'silent' }),
    clock: () => new Date(Date.now() + offsetMs),
    ...(options.runtime ? { runtime: options.runtime } : {}),
    ...(options.maintenance ? { registryMaintenance: options.maintenance(registry) } : {}),
  };
  let core = await Core.create(config, deps);
  let running = true;
  try {
    const url = await core.listen();
    const anonymous = new ApiClient(url);
    const first = await core.ensureFirstAdmin();
    assert.ok(first, 'a fresh database gets a first admin');
    const admin = anonymous.as(await tokenFor(anonymous, first.username, first.password));
    return {
      get core() {
        return core;
      },
      url,
      registry,
      shiftClock: (ms) => {
        offsetMs = ms;
      },
      keyDir,
      signer,
      anonymous,
      admin,
      user: async (username, userOptions = {}) => {
        const created = await admin.post('/api/v1/users', {
          username,
          password: TEST_PASSWORD,
          admin: userOptions.admin ?? false,
        });
        assert.equal(created.status, 201, `creating user ${username}: ${JSON.stringify(created.body)}`);
        const token = await tokenFor(anonymous, username, TEST_PASSWORD);
        return { api: anonymous.as(token), token };
      },
      stopCore: async () => {
        if (running) await core.close();
        running = false;
      },
      startCore: async () => {
        if (running) return core;
        core = await Core.create(config, deps);
        running = true;
        await core.listen();
        return core;
      },
      close: async () => {
        if (running) await core.close();
        running = false;
        rmSync(keyDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await core.close();
    throw error;
  }
}
