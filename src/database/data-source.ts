import { loadConfig } from '../config/configuration';
import { buildDataSourceOptions } from './data-source.options';
import { startEmbeddedPostgres } from './embedded-postgres';
import { MigrationDataSource } from './migration.data-source';

/**
 * The TypeORM CLI's data source (re-exported by `ormconfig.ts`; run compiled as
 * `dist/database/data-source.js` in the container). It connects with DATABASE_URL_UNPOOLED, or
 * DATABASE_URL; with neither, outside production, it starts the embedded development database.
 */
async function createCliDataSource(): Promise<MigrationDataSource> {
  const config = loadConfig();
  const db = config.database;
  const embedded = db.migrationsUrl ? undefined : await startEmbeddedPostgres(db.embedded);
  const url = embedded?.url ?? db.migrationsUrl;
  const dataSource = new MigrationDataSource(buildDataSourceOptions({ ...db, url, migrationsUrl: url }, 'migrations'));
  dataSource.embedded = embedded;
  return dataSource;
}

export default createCliDataSource();
