import {
  BadRequestException,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  ParseUUIDPipe,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiParam,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { AuthUser } from '../common/auth-user';
import { CurrentUser } from '../common/current-user.decorator';
import { ProblemDetailsDto, ValidationProblemDto } from '../http/problem-details';
import { SessionDto } from './dto/session.dto';
import { SessionsService } from './sessions.service';

const SESSION_ID = new ParseUUIDPipe({
  exceptionFactory: () => new BadRequestException('The session id must be a UUID'),
});

@ApiTags('sessions')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ProblemDetailsDto, description: 'Missing, invalid, expired or revoked access token.' })
@Controller('auth/sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  /** The caller's active sessions (signed-in devices), most recently used first. */
  @Get()
  @ApiOkResponse({ type: [SessionDto] })
  list(@CurrentUser() user: AuthUser): Promise<SessionDto[]> {
    return this.sessions.listActive(user);
  }

  /** Ends one of the caller's sessions, the current one included: its tokens are rejected from the next request. */
  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse({ description: 'The session has ended.' })
  @ApiParam({ name: 'id', description: 'The session id.', schema: { type: 'string', format: 'uuid' } })
  @ApiBadRequestResponse({
    type: ValidationProblemDto,
    description: 'The id is not a UUID, or a query parameter is given.',
  })
  @ApiNotFoundResponse({ type: ProblemDetailsDto, description: 'No active session of the caller has this id.' })
  end(@CurrentUser() user: AuthUser, @Param('id', SESSION_ID) id: string): Promise<void> {
    return this.sessions.end(user.id, id);
  }

  /** Ends every session of the caller except the current one ("sign out everywhere else"). */
  @Delete()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse({ description: 'Every other session has ended.' })
  endOthers(@CurrentUser() user: AuthUser): Promise<void> {
    return this.sessions.revokeAllExcept(user.id, user.sessionId);
  }
}
