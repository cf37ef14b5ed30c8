import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
  type ValidationArguments,
} from 'class-validator';
import { trustProxyProblem } from './trust-proxy';

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
/** A string of `min` to `max` characters. */
export const Text = (min: number, max = Infinity) =>
  all(IsString(), MinLength(min), ...(Number.isFinite(max) ? [MaxLength(max)] : []));
/** An optional postgres:// or postgresql:// URL. */
export const PostgresUrl = () =>
  all(
    IsOptional(),
    Matches(/^postgres(ql)?:\/\/[^\s]+$/, { message: '$property must be a postgres:// or postgresql:// URL' }),
  );
/** TRUST_PROXY: false, a hop count or addresses/CIDRs; `true` only outside production (see trust-proxy.ts). */
export const TrustProxy = () => {
  const problem = ({ value, object }: ValidationArguments) =>
    typeof value !== 'string'
      ? 'TRUST_PROXY must be a string'
      : trustProxyProblem(value, (object as { NODE_ENV?: string }).NODE_ENV === 'production');
  return ValidateBy({
    name: 'trustProxy',
    validator: {
      validate: (value, args) => problem(args!) === undefined,
      defaultMessage: (args) => problem(args!) ?? 'TRUST_PROXY is invalid',
    },
  });
};
