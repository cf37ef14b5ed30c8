import { startTestApp } from '../support/app';
import { snapshotDocument, useDocument } from '../support/contract';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { driveMainFlows, expectToFind } from '../support/main-flows';
import { migrationCli } from '../support/migration-cli';
import { previousRelease, type PreviousRelease } from '../support/previous-release';

// N-1 compatibility (issue #19). In a rolling update the migration Job applies the new release's
// migrations while pods of the previous release still serve, and then both releases serve side by side.
// So: the previous release (release/previous), built from its own commit, serves its main flows on the
// schema the new migrations leave, and the new release serves the same flows on that database beside it,
// each reading what the other wrote. Migrations must be expand-only to pass (docs/migrations.md).

// The first run installs and builds the previous release (about a minute); later runs reuse that build.
jest.setTimeout(600_000);

describe("the previous release on the new release's schema", () => {
  let previous: PreviousRelease;
  let db: TestDatabase;

  beforeAll(async () => {
    previous = await previousRelease();
    db = await createTestDatabase({ migrated: false });
  });
  afterAll(() => db?.drop());

  it('keeps serving while and after the new migrations apply, side by side with the new release', async () => {
    const started = Date.now();
    // The database as the previous release left it, migrated by its own migration command.
    const own = await migrationCli('migration:run', { DATABASE_URL: db.url }, { cwd: previous.dir });
    expect(own.code).toBe(0);
    const before = new Set(
      (await db.pool.query<{ name: string }>('SELECT name FROM migrations')).rows.map((r) => r.name),
    );

    const old = await startTestApp({ db, main: previous.main });
    // Clients generated from this release's document keep working against the previous one while both serve.
    useDocument(new URL(old.url).origin, snapshotDocument(), 'this release’s openapi.json');
    try {
      const earlier = await driveMainFlows(old.api, 'previous-release');

      // The deploy's first step, while the previous release serves: the new release's migrations.
      const migrated = await migrationCli('migration:run', { DATABASE_URL: db.url });
      expect(migrated.code).toBe(0);
      const { rows } = await db.pool.query<{ name: string }>('SELECT name FROM migrations ORDER BY id');
      const added = rows.map((row) => row.name).filter((name) => !before.has(name));

      const later = await driveMainFlows(old.api, 'previous-release-after');
      await expectToFind(old.api, earlier);
      expect((await old.api.get('/health/ready')).status).toBe(200);

      // Then the new release's pods come up beside the old ones, on the same database.
      const fresh = await startTestApp({ db });
      try {
        const current = await driveMainFlows(fresh.api, 'new-release');
        await expectToFind(fresh.api, earlier);
        await expectToFind(fresh.api, later);
        await expectToFind(old.api, current);
        expect((await fresh.api.get('/health/ready')).status).toBe(200);
      } finally {
        await fresh.close();
      }
      console.log(
        `previous release ${previous.commit.slice(0, 12)} on Node ${process.versions.node}: prepared in ` +
          `${previous.preparedMs ? `${Math.round(previous.preparedMs / 1000)} s` : '0 s (cached build)'}; ` +
          `new migrations applied under it: ${added.length ? added.join(', ') : 'none'}; ` +
          `both releases served register, login, create, list, update, delete (${Math.round((Date.now() - started) / 1000)} s)`,
      );
    } finally {
      await old.close();
    }
  });
});
