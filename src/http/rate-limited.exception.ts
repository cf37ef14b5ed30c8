import { HttpException, HttpStatus } from '@nestjs/common';

/** 429 whose problem response carries `Retry-After: <seconds>`. */
export class RateLimitedException extends HttpException {
  constructor(
    readonly retryAfterSeconds: number,
    message = 'Too many attempts; retry after the time in Retry-After',
    status: HttpStatus = HttpStatus.TOO_MANY_REQUESTS,
  ) {
    super(message, status);
  }
}

/** 503 with `Retry-After`: the service sheds work it cannot start soon (not this client's doing). */
export class OverloadedException extends RateLimitedException {
  constructor(retryAfterSeconds: number, message: string) {
    super(retryAfterSeconds, message, HttpStatus.SERVICE_UNAVAILABLE);
  }
}
