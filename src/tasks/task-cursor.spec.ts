import { TaskCursorCodec, type CursorPosition } from './task-cursor';

const ID = '0193d6c2-7d4e-7c1a-9f1e-3c2b1a0f9e8d';

describe('TaskCursorCodec', () => {
  const codec = new TaskCursorCodec('a-secret-that-is-at-least-32-characters-long');

  it.each<CursorPosition>([
    { sort: '-createdAt', value: '2026-03-01T12:34:56.123456Z', id: ID },
    { sort: 'dueDate', value: 'infinity', id: ID },
    { sort: 'title', value: 'Ünïcödé, "quotes", dots. and\nnewlines', id: ID },
    { sort: '-title', value: '', id: ID },
  ])('round-trips %j', (position) => {
    expect(codec.decode(codec.encode(position))).toEqual(position);
  });

  it('is opaque and URL-safe', () => {
    const cursor = codec.encode({ sort: 'title', value: 'secret title', id: ID });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(cursor).not.toContain('secret');
    expect(cursor).not.toContain(ID);
  });

  describe('refuses a cursor that was not issued as is', () => {
    const cursor = codec.encode({ sort: '-createdAt', value: '2026-03-01T12:34:56.123456Z', id: ID });
    const [payload, signature] = cursor.split('.');
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);

    it.each([
      ['a changed payload', `${flip(payload, 3)}.${signature}`],
      ['a changed signature', `${payload}.${flip(signature, 5)}`],
      [
        'a forged payload',
        `${Buffer.from(JSON.stringify(['-createdAt', '2000-01-01T00:00:00.000000Z', ID])).toString('base64url')}.${signature}`,
      ],
      ['a truncated signature', `${payload}.${signature.slice(0, -2)}`],
      ['no signature', payload],
      ['an empty signature', `${payload}.`],
      ['an extra segment', `${cursor}.extra`],
      ['an empty string', ''],
      ['garbage', 'abc.def'],
    ])('%s', (_what, tampered) => {
      expect(codec.decode(tampered)).toBeUndefined();
    });

    it('one signed with another secret', () => {
      const other = new TaskCursorCodec('another-secret-that-is-also-long-enough');
      expect(other.decode(cursor)).toBeUndefined();
    });
  });

  it('refuses a signed cursor of the wrong shape', () => {
    const cursor = codec.encode({ sort: 'title', value: 42 as unknown as string, id: ID });
    expect(codec.decode(cursor)).toBeUndefined();
  });
});
