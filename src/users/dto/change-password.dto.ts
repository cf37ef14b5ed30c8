import { IsString, Length, MaxLength, MinLength } from 'class-validator';

export class ChangePasswordDto {
  /** @example correct horse battery staple */
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  currentPassword: string;

  /** @example a new and longer passphrase */
  @IsString()
  @Length(8, 128)
  newPassword: string;
}
