import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { AppConfig } from '../config/configuration';
import { DatabaseProbe } from '../database/database.probe';

/** Readiness' view of PostgreSQL: `database` (answers in time), `migrations` (none pending), `pool`. */
@Injectable()
export class DatabaseHealthIndicator {
  private readonly config: AppConfig['health'];

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly probe: DatabaseProbe,
    config: ConfigService<AppConfig, true>,
  ) {
    this.config = config.get('health', { infer: true });
  }

  async check(): Promise<HealthIndicatorResult> {
    const started = performance.now();
    const database = this.indicators.check('database');
    const migrations = this.indicators.check('migrations');
    const pool = this.indicators.check('pool').up({ ...this.probe.pool() });
    try {
      const { pendingMigrations } = await withTimeout(
        this.probe.check(this.config.dbCacheTtlMs, this.config.dbTimeoutMs),
        this.config.dbTimeoutMs,
      );
      const responseTimeMs = Math.round(performance.now() - started);
      return {
        ...database.up({ responseTimeMs }),
        ...(pendingMigrations === 0
          ? migrations.up({ pending: 0 })
          : migrations.down({
              pending: pendingMigrations,
              message: 'migrations are pending: run npm run migration:run',
            })),
        ...pool,
      };
    } catch (error) {
      const message = error instanceof TimeoutError ? `no answer within ${this.config.dbTimeoutMs} ms` : 'unreachable';
      return { ...database.down({ message }), ...migrations.down({ pending: null, message: 'unknown' }), ...pool };
    }
  }
}

class TimeoutError extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
