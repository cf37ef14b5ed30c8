import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { GuardedPool } from './guarded-pool';

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

interface ProbeResult {
  pendingMigrations: number;
}

/**
 * What readiness asks of the database, in one statement: it answers, and which migrations are applied.
 * A success may be reused for a TTL (so probes alone let an idle Neon compute suspend); a failure never
 * is, and any connection failure seen by the app drops the cached success at once.
 */
@Injectable()
export class DatabaseProbe implements OnModuleInit {
  private cached?: { result: ProbeResult; expiresAt: number };
  private lastSuccess?: ProbeResult;
  private inFlight?: Promise<ProbeResult>;
  private lastReleaseAt = 0;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly pg: GuardedPool,
  ) {}

  onModuleInit(): void {
    this.pg.on('error', () => this.invalidate());
    // A connection handed back without an error: a query has just completed.
    this.pg.on('release', (error?: Error) => {
      if (!error) this.lastReleaseAt = Date.now();
    });
  }

  /** `progressWindowMs`: how recently a query must have completed for a busy pool to count as healthy. */
  check(cacheTtlMs: number, progressWindowMs = 1_000): Promise<ProbeResult> {
    if (this.cached && this.cached.expiresAt > Date.now()) return Promise.resolve(this.cached.result);
    // Every connection busy while queries keep completing means the database is answering: a probe
    // queued behind them would only time out and take a loaded (not broken) replica out of rotation.
    // Busy with nothing completing is a frozen or unreachable database, and the probe must find out.
    const pool = this.pool();
    const progressing = Date.now() - this.lastReleaseAt < progressWindowMs;
    if (this.lastSuccess && progressing && pool.idle === 0 && pool.total >= pool.max) {
      return Promise.resolve(this.lastSuccess);
    }
    // Concurrent probes share one query.
    this.inFlight ??= this.query(cacheTtlMs).finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  invalidate(): void {
    this.cached = undefined;
    this.lastSuccess = undefined;
  }

  pool(): PoolStats {
    const { totalCount: total, idleCount: idle, waitingCount: waiting } = this.pg;
    return { total, idle, waiting, max: this.pg.options.max };
  }

  private async query(cacheTtlMs: number): Promise<ProbeResult> {
    const table = this.dataSource.options.migrationsTableName ?? 'migrations';
    let applied: string[];
    try {
      const rows: { name: string }[] = await this.dataSource.query(`SELECT name FROM "${table}"`);
      applied = rows.map((row) => row.name);
    } catch (error) {
      // 42P01: no migrations table yet, so nothing is applied; the database itself answered.
      if ((error as { driverError?: { code?: string } }).driverError?.code !== '42P01') throw error;
      applied = [];
    }
    const known = this.dataSource.migrations.map((migration) => migration.name ?? migration.constructor.name);
    const result = { pendingMigrations: known.filter((name) => !applied.includes(name)).length };
    this.lastSuccess = result;
    if (cacheTtlMs > 0) this.cached = { result, expiresAt: Date.now() + cacheTtlMs };
    return result;
  }
}
