import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

// The migration linter (issue #19, npm run lint:migrations): squawk over the SQL each migration really
// sends, captured by scripts/migration-sql.ts from a run on a throw-away PostgreSQL. The project's own
// migrations have no finding that is not excused in place; a careless new one is caught.

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);

// What a rushed feature might ship: each statement locks tasks for as long as it takes on a big table.
const CARELESS = `
export class CarelessNote1999999999999 {
  name = 'CarelessNote1999999999999';
  async up(db: { query(sql: string): Promise<unknown> }): Promise<void> {
    await db.query(\`ALTER TABLE tasks ADD COLUMN note text\`);
    await db.query(\`CREATE INDEX tasks_note_idx ON tasks (note)\`);
    await db.query(\`ALTER TABLE tasks ADD CONSTRAINT tasks_note_check CHECK (char_length(note) <= 500)\`);
    await db.query(\`ALTER TABLE tasks ALTER COLUMN title TYPE text\`);
  }
  async down(): Promise<void> {}
}
`;

interface Finding {
  file: string;
  rule_name: string;
}

async function squawk(files: string[]): Promise<{ code: number; findings: Finding[] }> {
  try {
    const { stdout } = await run(join(ROOT, 'node_modules', '.bin', 'squawk'), ['--reporter', 'json', ...files]);
    return { code: 0, findings: JSON.parse(stdout || '[]') as Finding[] };
  } catch (error) {
    const { code, stdout } = error as { code: number; stdout: string };
    return { code, findings: JSON.parse(stdout) as Finding[] };
  }
}

describe('the migration linter', () => {
  let dir: string;
  let files: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tasks-api-lint-'));
    await writeFile(join(dir, '1999999999999-CarelessNote.ts'), CARELESS);
    await run(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'scripts/migration-sql.ts', join(dir, 'sql'), join(dir, '*.ts')],
      { cwd: ROOT },
    );
    files = (await readdir(join(dir, 'sql'))).map((file) => join(dir, 'sql', file));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("finds nothing unexcused in the SQL the project's migrations send", async () => {
    const own = files.filter((file) => !file.endsWith('CarelessNote.sql'));
    expect(own.length).toBeGreaterThanOrEqual(5);
    const result = await squawk(own);
    expect(result).toEqual({ code: 0, findings: [] });
    // Each excuse sits on the line before the statement it excuses, with its reason.
    const excuses = (await Promise.all(own.map((file) => readFile(file, 'utf8'))))
      .join('\n')
      .split('\n')
      .filter((line) => line.includes('squawk-ignore'));
    expect(excuses.length).toBeGreaterThan(0);
    // A concurrent index build runs without statement_timeout, and only it.
    const bucketed = await readFile(
      own.find((file) => file.endsWith('BucketedSearchIndex.sql'))!,
      'utf8',
    );
    expect(bucketed).toMatch(
      /^SET statement_timeout = 0;\n(?:\s*--.*\n)*\s*CREATE INDEX CONCURRENTLY [^;]+;\nRESET statement_timeout;$/m,
    );
    for (const line of excuses) expect(line).toMatch(/^\s*-- squawk-ignore [a-z-]+(, [a-z-]+)* -- \S.{10,}$/);
  });

  it('catches a migration that would lock tasks while it works, and names each rule', async () => {
    const careless = files.filter((file) => file.endsWith('CarelessNote.sql'));
    const sql = await readFile(careless[0], 'utf8');
    expect(sql).toMatch(/^SET lock_timeout = '5s';$/m);
    expect(sql).toMatch(/^BEGIN;$/m);
    const result = await squawk(careless);
    expect(result.code).not.toBe(0);
    expect(result.findings.map((finding) => finding.rule_name).sort()).toEqual([
      'changing-column-type',
      'constraint-missing-not-valid',
      'require-concurrent-index-creation',
    ]);
  });
});
