import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RecentAuthentication } from './recent-authentication';
import { RefreshTokenService } from './refresh-token.service';
import { Session } from './session.entity';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';

@Module({
  imports: [TypeOrmModule.forFeature([Session])],
  controllers: [SessionsController],
  providers: [SessionsService, RefreshTokenService, RecentAuthentication],
  exports: [SessionsService, RefreshTokenService, RecentAuthentication],
})
export class SessionsModule {}
