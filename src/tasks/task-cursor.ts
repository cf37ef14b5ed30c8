import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { SORTS, type Sort } from './task-sort';

export interface CursorPosition {
  sort: Sort;
  /** The sort key of the last task on the page, as text (see SortSpec.cursorValue). */
  value: string;
  id: string;
}

const VERSION = Buffer.from([1]);
const IV_BYTES = 12;
const TAG_BYTES = 16;
// The longest position: the longest sort name, a UUID, and a title of 200 characters (varchar(200)) at up to
// 4 UTF-8 bytes each. Timestamps and dates are far shorter.
const MAX_PLAINTEXT_BYTES = Math.max(...SORTS.map((sort) => sort.length)) + 1 + 36 + 1 + 200 * 4;

/** The longest cursor encode() can return (base64url without padding); the list query accepts no longer one. */
export const MAX_CURSOR_LENGTH = Math.ceil(((VERSION.length + IV_BYTES + MAX_PLAINTEXT_BYTES + TAG_BYTES) * 4) / 3);

/**
 * Opaque, private, tamper-evident keyset cursors: base64url(version ‖ IV ‖ AES-256-GCM(sort \n id \n value) ‖ tag).
 * Cursors travel in URLs that proxies log and a value can be a task's title, so none is readable without the
 * key, and the GCM tag refuses any edit. The key comes from the given secret (the JWT secret) through HKDF
 * with a label of its own, never the secret itself.
 */
export class TaskCursorCodec {
  private readonly key: KeyObject;

  constructor(secret: string) {
    this.key = createSecretKey(
      Buffer.from(hkdfSync('sha256', secret, '', 'tasks-api task-list-cursor aes-256-gcm', 32)),
    );
  }

  encode({ sort, value, id }: CursorPosition): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES }).setAAD(VERSION);
    const sealed = Buffer.concat([cipher.update(`${sort}\n${id}\n${value}`, 'utf8'), cipher.final()]);
    return Buffer.concat([VERSION, iv, sealed, cipher.getAuthTag()]).toString('base64url');
  }

  /** The position, or undefined when the cursor is malformed, edited, from another key or of an older format. */
  decode(cursor: string): CursorPosition | undefined {
    const bytes = Buffer.from(cursor, 'base64url');
    // Node skips characters outside the alphabet and ignores trailing bits: accept only the exact encoding.
    if (bytes.toString('base64url') !== cursor || bytes.length < VERSION.length + IV_BYTES + TAG_BYTES)
      return undefined;
    if (!bytes.subarray(0, VERSION.length).equals(VERSION)) return undefined;
    const iv = bytes.subarray(VERSION.length, VERSION.length + IV_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES })
      .setAAD(VERSION)
      .setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    let text: string;
    try {
      const sealed = bytes.subarray(VERSION.length + IV_BYTES, bytes.length - TAG_BYTES);
      text = Buffer.concat([decipher.update(sealed), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
    const idAt = text.indexOf('\n') + 1;
    const valueAt = idAt > 0 ? text.indexOf('\n', idAt) + 1 : 0;
    if (valueAt === 0) return undefined;
    return { sort: text.slice(0, idAt - 1) as Sort, value: text.slice(valueAt), id: text.slice(idAt, valueAt - 1) };
  }
}
