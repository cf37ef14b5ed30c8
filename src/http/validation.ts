import { BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';
import type { FieldErrorDto } from './problem-details';

/** Thrown by validation; the problem-details filter turns `errors` into the `errors` member. */
export class ValidationFailedException extends BadRequestException {
  constructor(readonly errors: FieldErrorDto[]) {
    super(errors.length === 1 ? errors[0].message : `${errors.length} fields are invalid`);
  }
}

// Rules about a value's size refine its kind: a value of the wrong kind breaks those too, but the rule to
// report is the kind (`refreshToken must be a string`, not `… must be shorter than …`).
const SIZE_RULES = new Set(['minLength', 'maxLength', 'isLength', 'min', 'max', 'arrayMinSize', 'arrayMaxSize']);

/**
 * Request DTOs are whitelists: unknown fields are rejected, not dropped, so a client's typo is reported
 * instead of silently ignored. Every rule of a field is checked, and the one reported is the one it
 * broke first: presence, then kind, then size.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    // The values stay on the server: only flatten() below reads them.
    validationError: { target: false, value: true },
    exceptionFactory: (errors) => new ValidationFailedException(flatten(errors)),
  });
}

function flatten(errors: ValidationError[], parent = ''): FieldErrorDto[] {
  return errors.flatMap((error) => {
    const field =
      error.property === undefined || error.property === ''
        ? parent
        : parent
          ? `${parent}.${error.property}`
          : error.property;
    const own = firstBroken(error, field);
    return [...(own ? [{ field, message: own }] : []), ...flatten(error.children ?? [], field)];
  });
}

function firstBroken({ constraints = {}, value }: ValidationError, field: string): string | undefined {
  const broken = Object.keys(constraints);
  if (broken.length === 0) return undefined;
  if (broken.includes('whitelistValidation')) return `${field} is not a known field`;
  if (broken.includes('unknownValue')) return 'the body must be a JSON object';
  if (value === undefined) return `${field} is required`;
  const rule = broken.find((name) => !SIZE_RULES.has(name)) ?? broken[0];
  return constraints[rule];
}
