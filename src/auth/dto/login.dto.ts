import { IsEmail, IsString, MaxLength, MinLength } from 'class-validator';
import { NormalizeEmail } from '../../http/transforms';

export class LoginDto {
  /** @example ada@example.com */
  @NormalizeEmail()
  @IsEmail()
  @MaxLength(254)
  email: string;

  /** @example correct horse battery staple */
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  password: string;
}
