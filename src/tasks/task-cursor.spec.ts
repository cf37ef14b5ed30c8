import { createHmac } from 'node:crypto';
import { MAX_CURSOR_LENGTH, TaskCursorCodec, type CursorPosition } from './task-cursor';
import { SORTS } from './task-sort';

const ID = '0193d6c2-7d4e-7c1a-9f1e-3c2b1a0f9e8d';
const SECRET = 'a-secret-that-is-at-least-32-characters-long';
const TITLE = 'bbb acquisition of Initech (confidential)';

/** Every reading of the cursor's characters that a curious proxy or log reader might try. */
const decodings = (cursor: string): string[] =>
  (['base64url', 'base64', 'hex'] as const).flatMap((encoding) => {
    const bytes = Buffer.from(cursor, encoding);
    return [bytes.toString('utf8'), bytes.toString('latin1'), bytes.toString('utf16le')];
  });

/** `text` with the character at `index` replaced by another base64url character. */
const flip = (text: string, index: number) =>
  `${text.slice(0, index)}${text[index] === 'A' ? 'B' : 'A'}${text.slice(index + 1)}`;

describe('TaskCursorCodec', () => {
  const codec = new TaskCursorCodec(SECRET);

  it.each<[string, CursorPosition]>([
    ['a timestamp', { sort: '-createdAt', value: '2026-03-01T12:34:56.123456Z', id: ID }],
    ['a missing due date', { sort: 'dueDate', value: 'infinity', id: ID }],
    ['a title with quotes, dots and newlines', { sort: 'title', value: 'Ünïcödé, "q", dots. and\nlines\n', id: ID }],
    ['an empty value', { sort: '-title', value: '', id: ID }],
    ['200 emoji', { sort: 'title', value: '😀'.repeat(200), id: ID }],
  ])('round-trips %s', (_what, position) => {
    expect(codec.decode(codec.encode(position))).toEqual(position);
  });

  it('is URL-safe and reveals neither title, id nor sort under any decoding', () => {
    const cursor = codec.encode({ sort: 'title', value: TITLE, id: ID });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    for (const text of [cursor, ...decodings(cursor)]) {
      for (const secret of ['Initech', 'confidential', ID, ID.replace(/-/g, ''), 'title']) {
        expect(text).not.toContain(secret);
      }
    }
  });

  it('encrypts the same position differently each time (a fresh IV per cursor)', () => {
    const position: CursorPosition = { sort: 'title', value: TITLE, id: ID };
    const cursors = new Set(Array.from({ length: 20 }, () => codec.encode(position)));
    expect(cursors.size).toBe(20);
    for (const cursor of cursors) expect(codec.decode(cursor)).toEqual(position);
  });

  it(`stays within MAX_CURSOR_LENGTH (${MAX_CURSOR_LENGTH}) for the longest title in every sort`, () => {
    const longest = ['😀'.repeat(200), '\u{10FFFF}'.repeat(200), '€'.repeat(200), 'x'.repeat(200)];
    const lengths = SORTS.flatMap((sort) => longest.map((value) => codec.encode({ sort, value, id: ID }).length));
    expect(Math.max(...lengths)).toBe(MAX_CURSOR_LENGTH);
    expect(MAX_CURSOR_LENGTH).toBeGreaterThan(1024);
  });

  describe('refuses a cursor that was not issued as is', () => {
    const cursor = codec.encode({ sort: '-createdAt', value: '2026-03-01T12:34:56.123456Z', id: ID });

    it('with any one character changed', () => {
      const accepted = [...cursor].map((_, index) => flip(cursor, index)).filter((c) => codec.decode(c) !== undefined);
      expect(accepted).toEqual([]);
    });

    it('with any one bit of its bytes flipped', () => {
      const bytes = Buffer.from(cursor, 'base64url');
      const accepted: number[] = [];
      for (let bit = 0; bit < bytes.length * 8; bit++) {
        const changed = Buffer.from(bytes);
        changed[bit >> 3] ^= 1 << (bit & 7);
        if (codec.decode(changed.toString('base64url')) !== undefined) accepted.push(bit);
      }
      expect(accepted).toEqual([]);
    });

    it('cut short at any length', () => {
      const accepted = [...cursor].map((_, end) => cursor.slice(0, end)).filter((c) => codec.decode(c) !== undefined);
      expect(accepted).toEqual([]);
    });

    const oldPayload = Buffer.from(JSON.stringify(['-createdAt', '2026-03-01T12:34:56.123456Z', ID])).toString(
      'base64url',
    );
    const oldKey = createHmac('sha256', SECRET).update('task-list-cursor').digest();

    it.each([
      ['characters appended', `${cursor}AAAA`],
      ['one byte appended', Buffer.concat([Buffer.from(cursor, 'base64url'), Buffer.from([0])]).toString('base64url')],
      ['padding', `${cursor}=`],
      ['a character outside base64url', `${cursor.slice(0, 10)}+${cursor.slice(11)}`],
      ['whitespace', ` ${cursor}`],
      [
        'the previous format (signed JSON)',
        `${oldPayload}.${createHmac('sha256', oldKey).update(oldPayload).digest('base64url')}`,
      ],
      ['an empty string', ''],
      ['garbage', 'garbage'],
      ['a lone dot', '.'],
      ['a header of the right length and zeros', Buffer.alloc(64).toString('base64url')],
    ])('with %s', (_what, tampered) => {
      expect(codec.decode(tampered)).toBeUndefined();
    });

    it('issued under another secret', () => {
      const other = new TaskCursorCodec('another-secret-that-is-also-long-enough');
      expect(other.decode(cursor)).toBeUndefined();
      expect(codec.decode(other.encode({ sort: 'title', value: TITLE, id: ID }))).toBeUndefined();
    });
  });
});
