import { loadConfig } from '../config/configuration';
import { describeConnection } from './data-source.options';
import { startEmbeddedPostgres } from './embedded-postgres';
import { MigrationDataSource } from './migration.data-source';

/**
 * The TypeORM CLI's data source (re-exported by `ormconfig.ts`; run compiled as
 * `dist/database/data-source.js` in the container). It connects with DATABASE_URL_UNPOOLED, or
 * DATABASE_URL; with neither, outside production, it starts the embedded development database.
 */
async function createCliDataSource(): Promise<MigrationDataSource> {
  const config = loadConfig(undefined, 'migrations');
  const db = config.database;
  const embedded = db.migrationsUrl ? undefined : await startEmbeddedPostgres(db.embedded);
  const database = embedded ? { ...db, url: embedded.url, migrationsUrl: embedded.url } : db;
  const { warning } = describeConnection(database, 'migrations');
  if (warning) console.warn(warning);
  const dataSource = MigrationDataSource.create(database);
  dataSource.embedded = embedded;
  return dataSource;
}

export default createCliDataSource();
