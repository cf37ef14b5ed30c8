import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Sort } from './task-sort';

export interface CursorPosition {
  sort: Sort;
  /** The sort key of the last task on the page, as text (see SortSpec.cursorValue). */
  value: string;
  id: string;
}

/**
 * Opaque, tamper-evident keyset cursors: base64url(JSON) plus an HMAC over it, so a client can hold and
 * return a position but not forge or edit one.
 */
export class TaskCursorCodec {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = createHmac('sha256', secret).update('task-list-cursor').digest();
  }

  encode(position: CursorPosition): string {
    const payload = Buffer.from(JSON.stringify([position.sort, position.value, position.id])).toString('base64url');
    return `${payload}.${this.sign(payload).toString('base64url')}`;
  }

  /** The position, or undefined when the cursor is malformed or its signature does not match. */
  decode(cursor: string): CursorPosition | undefined {
    const [payload, signature, ...rest] = cursor.split('.');
    if (!payload || !signature || rest.length > 0) return undefined;
    const expected = this.sign(payload);
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const [sort, value, id] = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown[];
      if (typeof sort !== 'string' || typeof value !== 'string' || typeof id !== 'string') return undefined;
      return { sort: sort as Sort, value, id };
    } catch {
      return undefined;
    }
  }

  private sign(payload: string): Buffer {
    return createHmac('sha256', this.key).update(payload).digest();
  }
}
