import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { IsCalendarDate } from '../../http/calendar-date';
import { OptionalNotNull, Trim } from '../../http/transforms';
import { PRIORITIES, type Priority } from '../task.entity';

export class CreateTaskDto {
  /** Trimmed; 1–200 characters. @example Write the quarterly report */
  @Trim()
  @IsString()
  @Length(1, 200)
  title: string;

  @ApiProperty({
    required: false,
    type: String,
    nullable: true,
    maxLength: 2000,
    example: 'Numbers from finance first',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string | null;

  @ApiProperty({ required: false, type: String, format: 'date', nullable: true, example: '2026-12-01' })
  @IsOptional()
  @IsCalendarDate()
  dueDate?: string | null;

  @ApiProperty({ required: false, enum: PRIORITIES, default: 'medium' })
  @OptionalNotNull()
  @IsIn(PRIORITIES)
  priority?: Priority;

  /** Whether the task is done; `completedAt` is set with it. */
  @ApiProperty({ required: false, default: false })
  @OptionalNotNull()
  @IsBoolean()
  completed?: boolean;
}
