import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AuthUser } from '../common/auth-user';
import type { AppConfig } from '../config/configuration';
import { ReauthenticationRequiredException } from './reauthentication-required.exception';

/**
 * Changes a stolen token must not be able to make (the account's email, its deletion) need the session to
 * have proved the password recently: the access token's auth_time within REAUTH_WINDOW_S. Tokens issued
 * before auth_time existed carry none and never qualify.
 */
@Injectable()
export class RecentAuthentication {
  private readonly windowS: number;

  constructor(config: ConfigService<AppConfig, true>) {
    this.windowS = config.get('auth', { infer: true }).reauthWindowS;
  }

  require(user: AuthUser, nowMs = Date.now()): void {
    if (user.authTime === undefined || nowMs / 1000 - user.authTime > this.windowS) {
      throw new ReauthenticationRequiredException(this.windowS);
    }
  }
}
