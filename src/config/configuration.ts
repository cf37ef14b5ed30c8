import { existsSync } from 'node:fs';
import { httpConfig, type HttpConfig } from './app.config';
import { authConfig, type AuthConfig } from './auth.config';
import { databaseConfig, type DatabaseConfig } from './database.config';
import { validateEnv, type ConfigPurpose } from './env.validation';
import { healthConfig, type HealthConfig } from './health.config';

/** The validated configuration, by namespace; read it with `ConfigService<AppConfig, true>`. */
export interface AppConfig {
  http: HttpConfig;
  database: DatabaseConfig;
  health: HealthConfig;
  auth: AuthConfig;
}

/** Validates the environment (by default `process.env`, completed by a local `.env`) into namespaces. */
export function loadConfig(
  raw: Record<string, string | undefined> = processEnv(),
  purpose: ConfigPurpose = 'app',
): AppConfig {
  const env = validateEnv(raw, purpose);
  return { http: httpConfig(env), database: databaseConfig(env), health: healthConfig(env), auth: authConfig(env) };
}

function processEnv(): NodeJS.ProcessEnv {
  // A developer's .env fills in what the real environment leaves unset; tests never read it.
  if (process.env.NODE_ENV !== 'test' && existsSync('.env')) process.loadEnvFile('.env');
  return process.env;
}
