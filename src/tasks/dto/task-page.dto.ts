import { ApiProperty } from '@nestjs/swagger';
import { TaskDto } from './task.dto';

export class TaskPageDto {
  items: TaskDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last.' })
  nextCursor: string | null;
}
