import { Transform } from 'class-transformer';
import { ValidateIf } from 'class-validator';

/** Trims surrounding whitespace from a string before validation; other types pass through to fail it. */
export const Trim = () => Transform(({ value }) => (typeof value === 'string' ? value.trim() : value));

/** Trims and lower-cases an email address before validation. */
export const NormalizeEmail = () =>
  Transform(({ value }) => (typeof value === 'string' ? value.trim().toLowerCase() : value));

/** Optional, but not nullable: `undefined` skips validation, `null` is validated (and fails). */
export const OptionalNotNull = () => ValidateIf((_object, value) => value !== undefined);
