export { type CoreConfig, CoreConfigSchema, loadConfig, redactConfig } from './config.ts';
export { Core, type CoreDeps } from './core.ts';
export { type Database, type DatabaseOptions, openDatabase } from './db/database.ts';
export { type App, type AppDeps, buildApp } from './http/app.ts';
export type { ReadinessCheck } from './http/health.ts';
