import { IsEmail, IsString, Length, MaxLength } from 'class-validator';
import { NormalizeEmail, Trim } from '../../http/transforms';

export class RegisterDto {
  /** Trimmed and lower-cased; unique regardless of case. @example ada@example.com */
  @NormalizeEmail()
  @IsEmail()
  @MaxLength(254)
  email: string;

  /** Never stored or logged as typed. @example correct horse battery staple */
  @IsString()
  @Length(8, 128)
  password: string;

  /** Trimmed. @example Ada Lovelace */
  @Trim()
  @IsString()
  @Length(1, 100)
  name: string;
}
