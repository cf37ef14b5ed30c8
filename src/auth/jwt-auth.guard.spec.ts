import { type ExecutionContext, HttpException, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import { Test } from '@nestjs/testing';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants';
import type { AuthUser } from '../common/auth-user';
import { Public } from '../common/public.decorator';
import { loadConfig } from '../config/configuration';
import { PasswordAttempts } from '../rate-limits/password-attempts';
import { RateLimitStore } from '../rate-limits/rate-limit.store';
import { RateLimitsModule } from '../rate-limits/rate-limits.module';
import { RefreshTokenService } from '../sessions/refresh-token.service';
import { SessionsModule } from '../sessions/sessions.module';
import { SessionsService } from '../sessions/sessions.service';
import { PasswordService } from '../users/password.service';
import { UsersModule } from '../users/users.module';
import { UsersService } from '../users/users.service';
import { AuthModule } from './auth.module';
import { JwtAuthGuard } from './jwt-auth.guard';

const USER = '0193d6c2-7d4e-7c1a-9f1e-3c2b1a0f9e8d';
const SESSION = '0193d6c2-7d4e-7c1a-9f1e-000000000001';

class Routes {
  @Public()
  open(): void {}

  guarded(): void {}
}

const sessions = { isActive: jest.fn<Promise<boolean>, [string, string]>() };

// AuthModule as the app has it (its JwtModule options are what the guard verifies with), with the
// database-backed modules it imports replaced.
@Module({
  providers: [
    { provide: SessionsService, useValue: sessions },
    { provide: RefreshTokenService, useValue: {} },
  ],
  exports: [SessionsService, RefreshTokenService],
})
class FakeSessionsModule {}

@Module({
  providers: [
    { provide: UsersService, useValue: {} },
    { provide: PasswordService, useValue: {} },
  ],
  exports: [UsersService, PasswordService],
})
class FakeUsersModule {}

@Module({
  providers: [
    { provide: RateLimitStore, useValue: {} },
    { provide: PasswordAttempts, useValue: {} },
  ],
  exports: [RateLimitStore, PasswordAttempts],
})
class FakeRateLimitsModule {}

describe('JwtAuthGuard', () => {
  let guard: JwtAuthGuard;
  let jwt: JwtService;
  let request: {
    headers: { authorization?: string };
    routeOptions: { url?: string; config: object };
    user?: AuthUser;
  };

  beforeAll(async () => {
    const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'unit-test-secret-that-is-long-enough-0123456789' });
    const moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => config] }), AuthModule],
    })
      .overrideModule(SessionsModule)
      .useModule(FakeSessionsModule)
      .overrideModule(UsersModule)
      .useModule(FakeUsersModule)
      .overrideModule(RateLimitsModule)
      .useModule(FakeRateLimitsModule)
      .compile();
    jwt = moduleRef.get(JwtService, { strict: false });
    guard = new JwtAuthGuard(jwt, moduleRef.get(SessionsService, { strict: false }));
  });

  beforeEach(() => {
    sessions.isActive.mockReset().mockResolvedValue(true);
    request = { headers: {}, routeOptions: { url: '/api/v1/things', config: routeConfig(Routes.prototype.guarded) } };
  });

  const routeConfig = (handler: () => void): object =>
    (Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler) as object | undefined) ?? {};
  const context = { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;

  /** The hook's answer to a guarded route called with `authorization`: true once request.user is set. */
  async function answer(authorization?: string): Promise<true | { status: number; detail: string }> {
    request.headers.authorization = authorization;
    try {
      await guard.authenticate(request);
      return guard.canActivate(context) as true;
    } catch (error) {
      if (!(error instanceof HttpException)) throw error;
      return { status: error.getStatus(), detail: error.message };
    }
  }
  const unauthorized = (detail: string) => ({ status: 401, detail });

  it('lets a @Public() route through without a token or a session check', async () => {
    request.routeOptions.config = routeConfig(Routes.prototype.open);
    await guard.authenticate(request);
    expect(guard.canActivate(context)).toBe(true);
    expect(sessions.isActive).not.toHaveBeenCalled();
  });

  it.each([
    ['outside the API (probes, metrics, docs)', '/health/live'],
    ['unknown (a 404 or 405 to come)', undefined],
  ])('lets a route %s through without a token', async (_name, url) => {
    request.routeOptions.url = url;
    await guard.authenticate(request);
    expect(guard.canActivate(context)).toBe(true);
    expect(sessions.isActive).not.toHaveBeenCalled();
  });

  it('refuses, as a guard, a protected route the hook did not authenticate', () => {
    expect(() => guard.canActivate(context)).toThrow('A bearer access token is required');
  });

  it('sets request.user from a valid token whose session is active', async () => {
    expect(await answer(`Bearer ${jwt.sign({ sub: USER, sid: SESSION })}`)).toBe(true);
    expect(request.user).toEqual({ id: USER, sessionId: SESSION });
    expect(sessions.isActive).toHaveBeenCalledWith(SESSION, USER);
  });

  it.each([
    ['no Authorization header', undefined],
    ['another scheme', 'Basic YWRhOnB3'],
    ['the token without a scheme', 'eyJhbGciOiJIUzI1NiJ9.e30.c2ln'],
  ])('answers %s with 401 asking for a bearer token', async (_name, header) => {
    expect(await answer(header)).toEqual(unauthorized('A bearer access token is required'));
    expect(sessions.isActive).not.toHaveBeenCalled();
  });

  it.each<[string, () => string]>([
    ['not a JWT', () => 'Bearer garbage'],
    ['trailing junk', () => `Bearer ${jwt.sign({ sub: USER, sid: SESSION })} extra`],
    ['another algorithm (HS512)', () => `Bearer ${jwt.sign({ sub: USER, sid: SESSION }, { algorithm: 'HS512' })}`],
    ['another issuer', () => `Bearer ${jwt.sign({ sub: USER, sid: SESSION }, { issuer: 'someone-else' })}`],
    ['another audience', () => `Bearer ${jwt.sign({ sub: USER, sid: SESSION }, { audience: 'someone-else' })}`],
    ['another secret', () => `Bearer ${jwt.sign({ sub: USER, sid: SESSION }, { secret: 'x'.repeat(48) })}`],
  ])('answers a token with %s with 401 "invalid"', async (_name, header) => {
    expect(await answer(header())).toEqual(unauthorized('The access token is invalid'));
    expect(sessions.isActive).not.toHaveBeenCalled();
  });

  it('answers an expired token with 401 "expired"', async () => {
    const expired = jwt.sign({ sub: USER, sid: SESSION }, { expiresIn: -60 });
    expect(await answer(`Bearer ${expired}`)).toEqual(unauthorized('The access token has expired'));
  });

  it.each([
    ['a sub that is not a UUID', { sub: 'admin', sid: SESSION }],
    ['no sid', { sub: USER }],
  ])('answers a signed token with %s with 401 "malformed"', async (_name, claims) => {
    expect(await answer(`Bearer ${jwt.sign(claims)}`)).toEqual(unauthorized('The access token is malformed'));
    expect(sessions.isActive).not.toHaveBeenCalled();
  });

  it('answers a valid token of an ended session with 401, leaving request.user unset', async () => {
    sessions.isActive.mockResolvedValue(false);
    expect(await answer(`Bearer ${jwt.sign({ sub: USER, sid: SESSION })}`)).toEqual(
      unauthorized('The session has ended; sign in again'),
    );
    expect(request.user).toBeUndefined();
  });
});
