import type { DatabaseConfig } from '../config/database.config';
import { MigrationDataSource } from './migration.data-source';

/** Applies pending migrations over the direct connection, under the migration lock; returns their names. */
export async function runMigrations(database: DatabaseConfig): Promise<string[]> {
  const dataSource = MigrationDataSource.create(database);
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations();
    return applied.map((migration) => migration.name);
  } finally {
    await dataSource.destroy();
  }
}
