import { IsString, MaxLength, MinLength } from 'class-validator';

export class RefreshDto {
  /** The refresh token from the last login or refresh; it is single-use. */
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  refreshToken: string;
}
