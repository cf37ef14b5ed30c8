import { ApiProperty } from '@nestjs/swagger';
import { PRIORITIES, type Priority } from '../task.entity';

export class TaskDto {
  /** @example 0193d6c2-7d4e-7c1a-9f1e-3c2b1a0f9e8d */
  id: string;

  /** @example Write the quarterly report */
  title: string;

  @ApiProperty({ type: String, nullable: true, example: 'Numbers from finance first' })
  description: string | null;

  completed: boolean;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Set when the task was completed.' })
  completedAt: Date | null;

  @ApiProperty({ type: String, format: 'date', nullable: true, example: '2026-12-01' })
  dueDate: string | null;

  @ApiProperty({ enum: PRIORITIES, example: 'medium' })
  priority: Priority;

  createdAt: Date;

  updatedAt: Date;

  /** Incremented by every change; the ETag of the task is this number in quotes. @example 1 */
  version: number;

  /** Exactly a task's fields, in this order, from a row that may carry more (or a stored response). */
  static from(row: TaskDto): TaskDto {
    return {
      id: row.id,
      title: row.title,
      description: row.description,
      completed: row.completed,
      completedAt: row.completedAt,
      dueDate: row.dueDate,
      priority: row.priority,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      version: row.version,
    };
  }
}
