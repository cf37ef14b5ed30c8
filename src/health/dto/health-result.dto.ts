import { ApiProperty } from '@nestjs/swagger';
import { INDICATORS } from './indicators';

/** A passing probe: Terminus' result. */
export class HealthResultDto {
  @ApiProperty({ type: String, enum: ['ok'] })
  status: 'ok';

  @ApiProperty({ ...INDICATORS, example: { database: { status: 'up' }, migrations: { status: 'up', pending: 0 } } })
  info: Record<string, unknown>;

  @ApiProperty({ ...INDICATORS, example: {} })
  error: Record<string, unknown>;

  @ApiProperty({ ...INDICATORS, description: '`info` and `error` together.' })
  details: Record<string, unknown>;
}
