import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { ThrottlerModule } from '@nestjs/throttler';
import type { AppConfig } from '../config/configuration';
import { RateLimitsModule } from '../rate-limits/rate-limits.module';
import { RateLimitStore } from '../rate-limits/rate-limit.store';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { throttlerOptions } from './auth-throttling';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { JwtAuthGuard } from './jwt-auth.guard';
import { jwtKey } from './jwt-key';
import { TokenService } from './token.service';

@Module({
  imports: [
    UsersModule,
    SessionsModule,
    JwtModule.registerAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => {
        const auth = config.get('auth', { infer: true });
        return {
          secret: jwtKey(auth.jwtSecret),
          signOptions: {
            algorithm: 'HS256',
            expiresIn: auth.accessTokenTtlS,
            issuer: auth.issuer,
            audience: auth.audience,
          },
          // What JwtAuthGuard accepts: only HS256 (never `none`), our issuer and audience, unexpired.
          verifyOptions: { algorithms: ['HS256'], issuer: auth.issuer, audience: auth.audience },
        };
      },
    }),
    RateLimitsModule,
    ThrottlerModule.forRootAsync({
      imports: [RateLimitsModule],
      inject: [ConfigService, RateLimitStore],
      useFactory: (config: ConfigService<AppConfig, true>, storage: RateLimitStore) =>
        throttlerOptions(config.get('auth', { infer: true }), storage),
    }),
  ],
  controllers: [AuthController],
  providers: [AuthService, TokenService, JwtAuthGuard, { provide: APP_GUARD, useExisting: JwtAuthGuard }],
})
export class AuthModule {}
