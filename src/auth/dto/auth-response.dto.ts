import { ApiProperty } from '@nestjs/swagger';
import { UserDto } from '../../users/dto/user.dto';

export class AuthResponseDto {
  user: UserDto;

  /** A JWT for `Authorization: Bearer …`, valid for `expiresIn` seconds. */
  accessToken: string;

  /** Opaque and single-use: exchange it at `POST /auth/refresh` for a new pair. */
  refreshToken: string;

  @ApiProperty({ enum: ['Bearer'] })
  tokenType: 'Bearer';

  /** Lifetime of the access token in seconds. @example 900 */
  expiresIn: number;
}
