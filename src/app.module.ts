import { type DynamicModule, Module } from '@nestjs/common';
import type { Logger as PinoLogger } from 'pino';
import { ConfigModule } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import type { AppConfig } from './config/configuration';
import { AuthModule } from './auth/auth.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { HttpModule } from './http/http.module';
import { MetricsModule } from './metrics/metrics.module';
import { TasksModule } from './tasks/tasks.module';
import { UsersModule } from './users/users.module';

@Module({})
export class AppModule {
  /** The configuration is loaded and validated once, before the module graph is built (see main.ts). */
  static forRoot(config: AppConfig, logger: PinoLogger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, skipProcessEnv: true, load: [() => config] }),
        // nestjs-pino as Nest's logger only: requests are logged once each by the access-log hook.
        LoggerModule.forRoot({ pinoHttp: { logger }, forRoutes: [] }),
        DatabaseModule,
        HttpModule,
        HealthModule,
        MetricsModule,
        AuthModule,
        UsersModule,
        TasksModule,
      ],
    };
  }
}
