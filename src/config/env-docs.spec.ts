import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EnvironmentVariables } from './env.validation';

const ROOT = join(__dirname, '..', '..');
const OPTIONAL = ['DATABASE_URL', 'DATABASE_URL_UNPOOLED', 'DATABASE_APP_ROLE', 'JWT_SECRET', 'METRICS_PORT'];
const variables = [...Object.keys(new EnvironmentVariables()), ...OPTIONAL];

describe('configuration documentation', () => {
  const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
  const reference = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');

  it.each(variables)('.env.example sets %s to its default', (name) => {
    const line = example.split('\n').find((entry) => entry.startsWith(`${name}=`));
    expect(line).toBeDefined();
    const value = line!.slice(name.length + 1);
    const fallback = (new EnvironmentVariables() as unknown as Record<string, unknown>)[name];
    expect(value).toBe(fallback === undefined ? '' : String(fallback));
  });

  it.each(variables)('docs/configuration.md documents %s', (name) => {
    expect(reference).toContain(`\`${name}\``);
  });

  it('documents nothing the service does not read', () => {
    const documented = example.match(/^[A-Z][A-Z0-9_]*(?==)/gm) ?? [];
    expect(documented.filter((name) => !variables.includes(name))).toEqual([]);
  });
});
