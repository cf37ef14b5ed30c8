import { Body, Controller, HttpCode, HttpStatus, Post, Req, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import { isIP } from 'node:net';
import { ProblemDetailsDto } from '../http/problem-details';
import type { ClientInfo } from '../sessions/refresh-token.service';
import { AuthThrottlerGuard } from './auth-throttler.guard';
import { onlyThrottlers } from './auth-throttling';
import type { AuthUser } from '../common/auth-user';
import { AuthService } from './auth.service';
import { CurrentUser } from '../common/current-user.decorator';
import { AuthResponseDto } from './dto/auth-response.dto';
import { LoginDto } from './dto/login.dto';
import { RefreshDto } from './dto/refresh.dto';
import { RegisterDto } from './dto/register.dto';
import { Public } from '../common/public.decorator';

const RATE_LIMITED = ApiTooManyRequestsResponse({
  type: ProblemDetailsDto,
  description:
    'Too many attempts from this client (or, for login, on this account), or too many passwords being hashed: retry after `Retry-After`.',
});

@ApiTags('auth')
@Controller('auth')
@UseGuards(AuthThrottlerGuard)
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  /** Creates an account and signs it in. */
  @Public()
  @Post('register')
  @SkipThrottle(onlyThrottlers('register-ip'))
  @RATE_LIMITED
  @ApiConflictResponse({ type: ProblemDetailsDto, description: 'The email is taken (in any letter case).' })
  register(@Body() body: RegisterDto, @Req() request: FastifyRequest): Promise<AuthResponseDto> {
    return this.auth.register(body, clientOf(request));
  }

  /** Signs in with email and password, opening a new session. */
  @Public()
  @Post('login')
  @HttpCode(HttpStatus.OK)
  @SkipThrottle(onlyThrottlers('login-ip'))
  @RATE_LIMITED
  @ApiUnauthorizedResponse({ type: ProblemDetailsDto, description: 'Unknown email or wrong password (one message).' })
  login(@Body() body: LoginDto, @Req() request: FastifyRequest): Promise<AuthResponseDto> {
    return this.auth.login(body, clientOf(request));
  }

  /** Exchanges a refresh token for a new pair; the one presented stops working. */
  @Public()
  @Post('refresh')
  @HttpCode(HttpStatus.OK)
  @SkipThrottle(onlyThrottlers('refresh-ip'))
  @RATE_LIMITED
  @ApiUnauthorizedResponse({
    type: ProblemDetailsDto,
    description:
      'Unknown, expired, revoked or past the absolute session lifetime; presenting any older token of a session ' +
      'also revokes that session.',
  })
  refresh(@Body() { refreshToken }: RefreshDto, @Req() request: FastifyRequest): Promise<AuthResponseDto> {
    return this.auth.refresh(refreshToken, clientOf(request));
  }

  /** Ends the current session: its access and refresh tokens are rejected from now on. */
  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiBearerAuth()
  @SkipThrottle()
  @ApiUnauthorizedResponse({ type: ProblemDetailsDto })
  logout(@CurrentUser() user: AuthUser): Promise<void> {
    return this.auth.logout(user.sessionId);
  }
}

function clientOf(request: FastifyRequest): ClientInfo {
  const userAgent = request.headers['user-agent'];
  // A trusted hop can pass on a forged entry that is no address at all; sessions.ip (inet) records none then.
  return {
    userAgent: typeof userAgent === 'string' ? userAgent : undefined,
    ip: isIP(request.ip) ? request.ip : undefined,
  };
}
