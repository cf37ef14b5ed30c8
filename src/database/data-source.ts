import { loadConfig } from '../config/configuration';
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
  const dataSource = MigrationDataSource.create(
    embedded ? { ...db, url: embedded.url, migrationsUrl: embedded.url } : db,
  );
  dataSource.embedded = embedded;
  return dataSource;
}

export default createCliDataSource();
