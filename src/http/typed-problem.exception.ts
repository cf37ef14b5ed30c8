import { HttpException } from '@nestjs/common';

/**
 * An HttpException whose problem response names its own kind (RFC 9457 §3.1): `type`, a URI a client can
 * act on, and `title`, its summary, in place of about:blank and the status' reason phrase.
 */
export class TypedProblemException extends HttpException {
  constructor(
    readonly type: string,
    readonly title: string,
    status: number,
    detail: string,
  ) {
    super(detail, status);
  }
}
