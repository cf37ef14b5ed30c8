import { ApiProperty } from '@nestjs/swagger';
import { ProblemDetailsDto } from '../../http/problem-details';
import { INDICATORS } from './indicators';

/** The readiness probe's 503: a problem that keeps Terminus' indicator results. */
export class NotReadyProblemDto extends ProblemDetailsDto {
  @ApiProperty({ ...INDICATORS, example: { migrations: { status: 'up', pending: 0 } } })
  info: Record<string, unknown>;

  @ApiProperty({ ...INDICATORS, example: { database: { status: 'down', message: 'timeout after 1000 ms' } } })
  error: Record<string, unknown>;

  @ApiProperty({ ...INDICATORS, description: '`info` and `error` together.' })
  details: Record<string, unknown>;
}
