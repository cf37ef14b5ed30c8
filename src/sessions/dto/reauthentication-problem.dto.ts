import { ApiProperty } from '@nestjs/swagger';
import { ProblemDetailsDto } from '../../http/problem-details';
import { REAUTHENTICATION_REQUIRED } from '../reauthentication-required.exception';

/** The 403 of an account change that needs a recent sign-in. */
export class ReauthenticationProblemDto extends ProblemDetailsDto {
  @ApiProperty({
    type: String,
    enum: [REAUTHENTICATION_REQUIRED],
    example: REAUTHENTICATION_REQUIRED,
    description: 'Sign in again with the password (POST /auth/login), then retry with the new access token.',
  })
  override type = REAUTHENTICATION_REQUIRED;

  @ApiProperty({ type: String, example: 'Reauthentication required' })
  override title = 'Reauthentication required';

  @ApiProperty({ type: Number, example: 403 })
  override status = 403;
}
