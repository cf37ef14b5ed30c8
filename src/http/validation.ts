import { BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';
import type { FieldErrorDto } from './problem-details';

/** Thrown by validation; the problem-details filter turns `errors` into the `errors` member. */
export class ValidationFailedException extends BadRequestException {
  constructor(readonly errors: FieldErrorDto[]) {
    super(errors.length === 1 ? errors[0].message : `${errors.length} fields are invalid`);
  }
}

/**
 * Request DTOs are whitelists: unknown fields are rejected, not dropped, so a client's typo is reported
 * instead of silently ignored.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    stopAtFirstError: true,
    validationError: { target: false, value: false },
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
    const own = Object.entries(error.constraints ?? {}).map(([constraint, message]) => ({
      field,
      message: describe(constraint, message, field),
    }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

function describe(constraint: string, message: string, field: string): string {
  if (constraint === 'whitelistValidation') return `${field} is not a known field`;
  if (constraint === 'unknownValue') return 'the body must be a JSON object';
  return message;
}
