import { HttpStatus } from '@nestjs/common';
import { TypedProblemException } from '../http/typed-problem.exception';

export const REAUTHENTICATION_REQUIRED = 'urn:tasks-api:problem:reauthentication-required';

/** 403 telling the client to sign in again with the password (a fresh login), then retry. */
export class ReauthenticationRequiredException extends TypedProblemException {
  constructor(windowS: number) {
    super(
      REAUTHENTICATION_REQUIRED,
      'Reauthentication required',
      HttpStatus.FORBIDDEN,
      `This change needs a sign-in with the password within the last ${windowS} seconds: sign in again, then retry`,
    );
  }
}
