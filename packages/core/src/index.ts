export { hashPassword } from './auth/passwords.ts';
export { type CoreConfig, CoreConfigSchema, loadConfig, redactConfig } from './config.ts';
export { Core, type CoreDeps } from './core.ts';
export { type Database, type DatabaseOptions, openDatabase } from './db/database.ts';
export { migrate } from './db/migrate.ts';
export { type App, type AppDeps, buildApp } from './http/app.ts';
export { CLIENT_HEADER, SESSION_COOKIE } from './http/authHook.ts';
export type { ReadinessCheck } from './http/health.ts';
