import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, Matches, Max, Min } from 'class-validator';

// How environment variables are written: text, turned into the value each one validates as.

const all =
  (...decorators: PropertyDecorator[]): PropertyDecorator =>
  (target, property) => {
    for (const decorator of decorators) decorator(target, property);
  };
/** An integer in [min, max], given as decimal digits. */
export const Int = (min: number, max: number) =>
  all(
    Transform(({ value }) => (/^-?\d+$/.test(String(value)) ? Number(value) : value)),
    IsInt(),
    Min(min),
    Max(max),
  );
/** true/1/yes/on or false/0/no/off, in any letter case. */
export const Bool = () =>
  all(
    Transform(({ value }) => {
      if (typeof value === 'boolean') return value;
      const text = String(value).toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(text)) return true;
      if (['false', '0', 'no', 'off'].includes(text)) return false;
      return value;
    }),
    IsBoolean(),
  );
/** A rate limit, `<requests>/<seconds>`. */
export const Rate = () =>
  Matches(/^\d{1,6}\/\d{1,6}$/, { message: '$property must look like <requests>/<seconds>, e.g. 20/60' });
