import { createHmac } from 'node:crypto';
import type { Response } from 'supertest';
import { MAX_CURSOR_LENGTH, TaskCursorCodec } from '../../../src/tasks/task-cursor';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../../support/app';
import { expectProblem, NO_THROTTLING, bearer, registerTaskUser, type TaskUser } from '../../support/auth';

// Titles someone would not want in a proxy's access log; sort=title puts them into the cursor's position.
const TITLES = [
  'aaa merger talks with Initech (confidential)',
  'bbb acquisition of Initech (confidential)',
  'ccc layoffs at Initech (confidential)',
];

type Query = Record<string, string | number>;

let t: TestApp;
let owner: TaskUser;

const list = (query: Query, user = owner) => t.api.get('/api/v1/tasks').query(query).set(bearer(user));

async function create(user: TaskUser, title: string): Promise<{ id: string; title: string }> {
  const res = await t.api.post('/api/v1/tasks').set(bearer(user)).send({ title });
  expect(res.status).toBe(201);
  return res.body as { id: string; title: string };
}

function expectListProblem(res: Response, status: number): void {
  expectProblem(res, status);
  expect(res.body.instance).toBe('/api/v1/tasks');
}

/** `text` with the character at `index` replaced by another base64url character. */
const flip = (text: string, index: number) =>
  `${text.slice(0, index)}${text[index] === 'A' ? 'B' : 'A'}${text.slice(index + 1)}`;

/** The cursor read as base64url, base64 and hex, each as UTF-8 and Latin-1: what a curious log reader tries. */
const decodings = (cursor: string): string[] =>
  (['base64url', 'base64', 'hex'] as const).flatMap((encoding) => {
    const bytes = Buffer.from(cursor, encoding);
    return [bytes.toString('utf8'), bytes.toString('latin1')];
  });

beforeAll(async () => {
  t = await startTestApp({ env: NO_THROTTLING });
  owner = await registerTaskUser(t.api, 'cursors');
  for (const title of [...TITLES].reverse()) await create(owner, title);
});
afterAll(() => t.close());

describe('a nextCursor', () => {
  let first: Response;
  let cursor: string;

  beforeAll(async () => {
    first = await list({ sort: 'title', limit: 1 });
    expect(first.status).toBe(200);
    expect(first.body.items.map((task: { title: string }) => task.title)).toEqual([TITLES[0]]);
    cursor = first.body.nextCursor as string;
  });

  it('is opaque URL-safe text that reveals neither the title, the id nor the sort', () => {
    const id = first.body.items[0].id as string;
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    for (const text of [cursor, ...decodings(cursor)]) {
      for (const secret of ['Initech', 'confidential', 'merger', id, id.replace(/-/g, ''), 'title']) {
        expect(text).not.toContain(secret);
      }
    }
  });

  it('leads through the next pages when returned unchanged', async () => {
    const titles: string[] = [];
    let next: string | null = cursor;
    while (next !== null) {
      const res = await list({ sort: 'title', limit: 1, cursor: next });
      expect(res.status).toBe(200);
      titles.push(...res.body.items.map((task: { title: string }) => task.title));
      next = res.body.nextCursor as string | null;
    }
    expect(titles).toEqual(TITLES.slice(1));
  });

  it('differs each time the same page is listed, and each one works', async () => {
    const again = (await list({ sort: 'title', limit: 1 })).body.nextCursor as string;
    expect(again).not.toBe(cursor);
    const res = await list({ sort: 'title', limit: 1, cursor: again });
    expect(res.body.items.map((task: { title: string }) => task.title)).toEqual([TITLES[1]]);
  });

  it.each<[string, () => string]>([
    ['its first character (the format version) changed', () => flip(cursor, 0)],
    ['a character of its IV changed', () => flip(cursor, 8)],
    ['a character of its ciphertext changed', () => flip(cursor, Math.floor(cursor.length / 2))],
    ['its last character (the tag) changed', () => flip(cursor, cursor.length - 1)],
    ['its last character removed', () => cursor.slice(0, -1)],
    ['its last four characters removed', () => cursor.slice(0, -4)],
    ['characters appended', () => `${cursor}AAAA`],
    ['a signed-looking part appended', () => `${cursor}.${cursor.slice(0, 43)}`],
    ['base64 padding', () => `${cursor}==`],
    ['garbage', () => 'garbage'],
    ['a lone dot', () => '.'],
    ['punctuation', () => '%%%!!!'],
    ['a length over the limit', () => 'A'.repeat(MAX_CURSOR_LENGTH + 1)],
    [
      'the same position encrypted under another secret',
      () =>
        new TaskCursorCodec('another-secret-that-is-long-enough-0123').encode({
          sort: 'title',
          value: TITLES[0],
          id: first.body.items[0].id as string,
        }),
    ],
    [
      'the same position in the previous format (base64url JSON signed with HMAC): clients start paging again',
      () => {
        const payload = Buffer.from(JSON.stringify(['title', TITLES[0], first.body.items[0].id])).toString('base64url');
        const key = createHmac('sha256', TEST_JWT_SECRET).update('task-list-cursor').digest();
        return `${payload}.${createHmac('sha256', key).update(payload).digest('base64url')}`;
      },
    ],
  ])('answers 400 problem+json with %s', async (_case, tampered) => {
    expectListProblem(await list({ sort: 'title', limit: 1, cursor: tampered() }), 400);
  });

  it('answers 400 to an empty cursor', async () => {
    expectListProblem(await list({ sort: 'title', cursor: '' }), 400);
  });

  it.each(['-title', 'createdAt', '-createdAt', 'dueDate'])(
    'answers 400 when a sort=title cursor comes with sort=%s',
    async (sort) => {
      expectListProblem(await list({ sort, limit: 1, cursor }), 400);
    },
  );

  it('from the default sort works with no sort or sort=-createdAt, and answers 400 with sort=createdAt', async () => {
    const defaultCursor = (await list({ limit: 1 })).body.nextCursor as string;
    expect((await list({ limit: 1, cursor: defaultCursor })).status).toBe(200);
    expect((await list({ sort: '-createdAt', limit: 1, cursor: defaultCursor })).status).toBe(200);
    expectListProblem(await list({ sort: 'createdAt', limit: 1, cursor: defaultCursor }), 400);
  });
});

it('fits the longest title, 200 four-byte characters, in a cursor the list accepts', async () => {
  const user = await registerTaskUser(t.api, 'emoji');
  const tasks = [await create(user, '😀'.repeat(200)), await create(user, '😀'.repeat(200))];
  const ids = tasks.map((task) => task.id).sort();

  const first = await list({ sort: 'title', limit: 1 }, user);
  expect(first.status).toBe(200);
  const cursor = first.body.nextCursor as string;
  expect(cursor.length).toBeGreaterThan(1024);
  expect(cursor.length).toBeLessThanOrEqual(MAX_CURSOR_LENGTH);

  const second = await list({ sort: 'title', limit: 1, cursor }, user);
  expect(second.status).toBe(200);
  expect([first.body.items[0].id, second.body.items[0].id]).toEqual(ids);
  expect(second.body.nextCursor).toBeNull();
});
