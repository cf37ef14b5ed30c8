import { Injectable, UnauthorizedException } from '@nestjs/common';
import { RefreshTokenService, type ClientInfo, type IssuedSession } from '../sessions/refresh-token.service';
import { SessionsService } from '../sessions/sessions.service';
import { UserDto } from '../users/dto/user.dto';
import { PasswordService } from '../users/password.service';
import { UsersService } from '../users/users.service';
import type { AuthResponseDto } from './dto/auth-response.dto';
import type { LoginDto } from './dto/login.dto';
import type { RegisterDto } from './dto/register.dto';
import { PasswordAttempts } from '../rate-limits/password-attempts';
import { TokenService } from './token.service';

// The same answer for an unknown email and a wrong password.
const INVALID_CREDENTIALS = 'The email or password is incorrect';

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly sessions: SessionsService,
    private readonly refreshTokens: RefreshTokenService,
    private readonly tokens: TokenService,
    private readonly attempts: PasswordAttempts,
  ) {}

  async register({ email, password, name }: RegisterDto, client: ClientInfo): Promise<AuthResponseDto> {
    const user = await this.users.create(email, name, password);
    return this.respond(user, await this.refreshTokens.open(user.id, client));
  }

  async login({ email, password }: LoginDto, client: ClientInfo): Promise<AuthResponseDto> {
    const user = await this.users.findWithPassword(email);
    const verify = () => this.passwords.verify(user?.passwordHash, password, email);
    if (!(await this.attempts.verify(email, verify)) || !user) throw new UnauthorizedException(INVALID_CREDENTIALS);
    if (this.passwords.needsRehash(user.passwordHash)) await this.users.rehashPassword(user.id, password);
    await this.sessions.purgeDead(user.id);
    return this.respond(UserDto.from(user), await this.refreshTokens.open(user.id, client));
  }

  async refresh(refreshToken: string, client: ClientInfo): Promise<AuthResponseDto> {
    const session = await this.refreshTokens.rotate(refreshToken, client);
    return this.respond(await this.users.findOne(session.userId), session);
  }

  logout(sessionId: string): Promise<void> {
    return this.sessions.revoke(sessionId);
  }

  private async respond(user: UserDto, session: IssuedSession): Promise<AuthResponseDto> {
    return {
      user,
      accessToken: await this.tokens.accessToken(user.id, session.sessionId, session.authenticatedAt),
      refreshToken: session.refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.tokens.expiresIn,
    };
  }
}
