import type { FactoryProvider } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import * as pg from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';

/** Raised instead of queueing when too many requests already wait for a connection. */
export class PoolSaturatedError extends Error {
  override name = 'PoolSaturatedError';
  constructor(readonly waiting: number) {
    super(`connection pool saturated: ${waiting} requests already waiting`);
  }
}

export interface GuardedPoolOptions extends pg.PoolConfig {
  /** Longest wait queue tolerated before new requests are refused at once. */
  maxWaiting: number;
}

type ConnectCallback = (
  err: Error | undefined,
  client?: pg.PoolClient,
  release?: (err?: Error | boolean) => void,
) => void;

/**
 * node-postgres' pool with a bounded wait queue: when the database is slow or the pool is exhausted,
 * waiting longer helps nobody, so excess requests fail fast (and are answered 503 + Retry-After)
 * rather than piling up until each hits the acquire timeout.
 */
export class GuardedPool extends pg.Pool {
  declare readonly options: pg.PoolOptions & { maxWaiting: number };

  override connect(): Promise<pg.PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | void {
    if (this.idleCount === 0 && this.totalCount >= this.options.max && this.waitingCount >= this.options.maxWaiting) {
      const error = new PoolSaturatedError(this.waitingCount);
      if (callback) return callback(error);
      return Promise.reject(error);
    }
    return callback ? super.connect(callback as never) : super.connect();
  }
}

/** What TypeORM's postgres driver loads in place of `require('pg')`. */
export const guardedPg = { ...pg, Pool: GuardedPool };

/**
 * The app's one pool, the one TypeORM opened, as a provider: `constructor(pool: GuardedPool)`. TypeORM
 * has no accessor for it but the postgres driver's `master`, read here and nowhere else.
 */
export const guardedPoolProvider: FactoryProvider<GuardedPool> = {
  provide: GuardedPool,
  inject: [getDataSourceToken()],
  useFactory: (dataSource: DataSource) => (dataSource.driver as PostgresDriver).master as GuardedPool,
};
