import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/configuration';
import { GuardedPool } from './guarded-pool';
import { StatementRunner } from './statement-runner';

export type { SqlResult, Statement } from './statement-runner';

/**
 * The hot statements (every task route, the session check) as named prepared statements on the app's
 * node-postgres pool, so the pool's limits, wait queue and metrics stay whole. Neon's pooler carries
 * protocol-level prepared statements; behind one that does not, they switch off by themselves (logged
 * once). `DB_PREPARED_STATEMENTS=false` never names statements.
 */
@Injectable()
export class Sql extends StatementRunner {
  constructor(pool: GuardedPool, config: ConfigService<AppConfig, true>) {
    const logger = new Logger('Database');
    super(pool, config.get('database', { infer: true }).preparedStatements, (code) =>
      logger.warn(
        `the database connection does not keep prepared statements (SQLSTATE ${code}, e.g. PgBouncer before 1.21): statements run unnamed from now on; DB_PREPARED_STATEMENTS=false skips this check`,
      ),
    );
  }
}
