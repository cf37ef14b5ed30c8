import { PartialType } from '@nestjs/swagger';
import { CreateTaskDto } from './create-task.dto';

/**
 * Every field optional; `null` clears `description` and `dueDate` and is refused for the others
 * (`skipNullProperties: false` keeps validating nulls).
 */
export class UpdateTaskDto extends PartialType(CreateTaskDto, { skipNullProperties: false }) {}
