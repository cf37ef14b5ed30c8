import { HttpException, HttpStatus } from '@nestjs/common';

/** 429 whose problem response carries `Retry-After: <seconds>`. */
export class RateLimitedException extends HttpException {
  constructor(
    readonly retryAfterSeconds: number,
    message = 'Too many attempts; retry after the time in Retry-After',
  ) {
    super(message, HttpStatus.TOO_MANY_REQUESTS);
  }
}
