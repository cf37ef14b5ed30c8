import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { IsCalendarDate } from '../../http/calendar-date';
import { PRIORITIES, type Priority } from '../task.entity';
import { MAX_CURSOR_LENGTH } from '../task-cursor';
import { SORTS, type Sort } from '../task-sort';

// Query strings are text: only the exact words true/false are booleans.
const toBoolean = () =>
  Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value), { toClassOnly: true });
// An empty `limit=` is not a number, although Number('') is 0.
const toNumber = () =>
  Transform(({ value }) => (typeof value === 'string' && value.trim() !== '' ? Number(value) : value), {
    toClassOnly: true,
  });
const emptyAsAbsent = () =>
  Transform(({ value }) => (typeof value === 'string' && value.trim() === '' ? undefined : value), {
    toClassOnly: true,
  });

export class ListTasksQueryDto {
  @ApiPropertyOptional({ type: Boolean, description: 'Only completed (true) or only open (false) tasks.' })
  @IsOptional()
  @toBoolean()
  @IsBoolean({ message: 'completed must be true or false' })
  completed?: boolean;

  @ApiPropertyOptional({ enum: PRIORITIES })
  @IsOptional()
  @IsIn(PRIORITIES)
  priority?: Priority;

  @ApiPropertyOptional({
    format: 'date',
    description: 'Only tasks due strictly before this date.',
    example: '2026-12-31',
  })
  @IsOptional()
  @IsCalendarDate()
  dueBefore?: string;

  @ApiPropertyOptional({
    format: 'date',
    description: 'Only tasks due strictly after this date.',
    example: '2026-12-01',
  })
  @IsOptional()
  @IsCalendarDate()
  dueAfter?: string;

  @ApiPropertyOptional({
    description: 'Full-text search over title and description (web-search syntax: words, "phrases", -exclusions, or).',
    maxLength: 200,
    example: 'quarterly report',
  })
  @IsOptional()
  @emptyAsAbsent()
  @IsString()
  @MaxLength(200)
  q?: string;

  @ApiPropertyOptional({ enum: SORTS, default: '-createdAt', description: 'A leading minus sorts descending.' })
  @IsOptional()
  @IsIn(SORTS)
  sort: Sort = '-createdAt';

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @toNumber()
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page, unchanged.' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_CURSOR_LENGTH)
  cursor?: string;
}
