import { IsEmail, IsString, Length, MaxLength } from 'class-validator';
import { NormalizeEmail, OptionalNotNull, Trim } from '../../http/transforms';

export class UpdateUserDto {
  /** Trimmed. @example Ada King */
  @OptionalNotNull()
  @Trim()
  @IsString()
  @Length(1, 100)
  name?: string;

  /** Trimmed and lower-cased; must not belong to another account. @example ada.king@example.com */
  @OptionalNotNull()
  @NormalizeEmail()
  @IsEmail()
  @MaxLength(254)
  email?: string;
}
