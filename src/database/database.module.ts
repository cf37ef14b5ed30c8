import { type FactoryProvider, Global, Logger, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config/configuration';
import { classifyDatabaseError } from './database-errors';
import { DatabaseProbe } from './database.probe';
import { buildDataSourceOptions } from './data-source.options';
import { GuardedPool } from './guarded-pool';
import { Sql } from './sql';

const RETRY_DELAY_MS = 2_000;

/**
 * The app's one pool, the one TypeORM opened, as a provider (`constructor(pool: GuardedPool)`). TypeORM
 * has no accessor for it but its postgres driver's `master`, read here and nowhere else.
 */
const guardedPoolProvider: FactoryProvider<GuardedPool> = {
  provide: GuardedPool,
  inject: [getDataSourceToken()],
  useFactory: (dataSource: DataSource) => (dataSource.driver as unknown as { master: GuardedPool }).master,
};

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => {
        const database = config.get('database', { infer: true });
        const logger = new Logger('Database');
        return {
          ...buildDataSourceOptions(database),
          autoLoadEntities: true,
          // An unreachable database at boot (a Neon compute waking up, a pod starting before its
          // database) is retried for DB_STARTUP_RETRY_MS; bad credentials, and a startup packet the
          // server or pooler refuses (08P01, e.g. PgBouncer's "unsupported startup parameter"), fail at once.
          // Attempts, not retries: the first attempt plus one every RETRY_DELAY_MS until the time is up.
          retryAttempts: Math.ceil(database.startupRetryMs / RETRY_DELAY_MS) + 1,
          retryDelay: RETRY_DELAY_MS,
          toRetry: (error: Error) => {
            const code = (error as { code?: string }).code ?? '';
            return classifyDatabaseError(error) !== undefined && !/^(28|3D|08P01)/.test(code);
          },
          // An idle pooled connection that the server closes (Neon suspending, a failover) emits an error
          // on the pool; the pool already discards that client, and the next query opens a fresh one.
          poolErrorHandler: (error: Error) => logger.warn(`idle connection closed: ${error.message}`),
        };
      },
    }),
  ],
  providers: [guardedPoolProvider, DatabaseProbe, Sql],
  exports: [guardedPoolProvider, DatabaseProbe, Sql],
})
export class DatabaseModule {}
