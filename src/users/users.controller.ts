import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Patch, Put } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { AuthUser } from '../common/auth-user';
import { CurrentUser } from '../common/current-user.decorator';
import { ProblemDetailsDto, ValidationProblemDto } from '../http/problem-details';
import { RequireBody } from '../http/require-body.pipe';
import { ChangePasswordDto } from './dto/change-password.dto';
import { UpdateUserDto } from './dto/update-user.dto';
import { UserDto } from './dto/user.dto';
import { UsersService } from './users.service';

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

  /** Changes the name and/or email; at least one field. */
  @Patch()
  @ApiBadRequestResponse({ type: ValidationProblemDto })
  @ApiConflictResponse({ type: ProblemDetailsDto, description: 'The email belongs to another account.' })
  update(@CurrentUser() user: AuthUser, @Body(RequireBody) changes: UpdateUserDto): Promise<UserDto> {
    return this.users.update(user.id, changes);
  }

  /** Changes the password; every other session of the user is signed out. */
  @Put('password')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiBadRequestResponse({ type: ValidationProblemDto })
  @ApiForbiddenResponse({ type: ProblemDetailsDto, description: 'The current password is wrong.' })
  changePassword(@CurrentUser() user: AuthUser, @Body() body: ChangePasswordDto): Promise<void> {
    return this.users.changePassword(user.id, user.sessionId, body);
  }

  /** Deletes the account with all its tasks and sessions; its tokens stop working at once. */
  @Delete()
  @HttpCode(HttpStatus.NO_CONTENT)
  remove(@CurrentUser() user: AuthUser): Promise<void> {
    return this.users.remove(user.id);
  }
}
