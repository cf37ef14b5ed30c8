import type { ApiPropertyOptions } from '@nestjs/swagger';

/** Terminus' map of indicator results (`database`, `migrations`, `pool`), each with its `status`. */
export const INDICATORS: ApiPropertyOptions = {
  type: 'object',
  additionalProperties: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['up', 'down'] } },
    additionalProperties: true,
  },
};
