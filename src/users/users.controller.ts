import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Patch, Put } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { AuthUser } from '../common/auth-user';
import { CurrentUser } from '../common/current-user.decorator';
import { ProblemDetailsDto, ValidationProblemDto } from '../http/problem-details';
import { ReauthenticationProblemDto } from '../sessions/dto/reauthentication-problem.dto';
import { RequireBody } from '../http/require-body.pipe';
import { ChangePasswordDto } from './dto/change-password.dto';
import { UpdateUserDto } from './dto/update-user.dto';
import { UserDto } from './dto/user.dto';
import { UsersService } from './users.service';

const REAUTHENTICATE =
  "The access token's auth_time is older than the reauthentication window (REAUTH_WINDOW_S, 10 minutes by " +
  'default): sign in again with the password, then retry with the new access token.';

@ApiTags('users')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ProblemDetailsDto, description: 'Missing, invalid, expired or revoked access token.' })
@Controller('users/me')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  /** The signed-in user. */
  @Get()
  findMe(@CurrentUser() user: AuthUser): Promise<UserDto> {
    return this.users.findOne(user.id);
  }

  /** Changes the name and/or email; at least one field. A new email needs a recent sign-in (`auth_time`). */
  @Patch()
  @ApiBadRequestResponse({ type: ValidationProblemDto })
  @ApiForbiddenResponse({ type: ReauthenticationProblemDto, description: REAUTHENTICATE })
  @ApiConflictResponse({ type: ProblemDetailsDto, description: 'The email belongs to another account.' })
  update(@CurrentUser() user: AuthUser, @Body(RequireBody) changes: UpdateUserDto): Promise<UserDto> {
    return this.users.update(user, changes);
  }

  /** Changes the password; every other session of the user is signed out. */
  @Put('password')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiBadRequestResponse({ type: ValidationProblemDto })
  @ApiForbiddenResponse({ type: ProblemDetailsDto, description: 'The current password is wrong.' })
  @ApiTooManyRequestsResponse({
    type: ProblemDetailsDto,
    description: 'Too many attempts, or too many passwords being hashed: retry after `Retry-After`.',
  })
  changePassword(@CurrentUser() user: AuthUser, @Body() body: ChangePasswordDto): Promise<void> {
    return this.users.changePassword(user, body);
  }

  /** Deletes the account with all its tasks and sessions; its tokens stop working at once. Needs a recent sign-in. */
  @Delete()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiForbiddenResponse({ type: ReauthenticationProblemDto, description: REAUTHENTICATE })
  remove(@CurrentUser() user: AuthUser): Promise<void> {
    return this.users.remove(user);
  }
}
