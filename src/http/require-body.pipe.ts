import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';

/** For partial updates: a body with no field at all is a client error, not a no-op. */
@Injectable()
export class RequireBody implements PipeTransform {
  transform<T>(value: T): T {
    if (value === null || typeof value !== 'object' || Object.values(value).every((field) => field === undefined)) {
      throw new BadRequestException('The body must contain at least one field to change');
    }
    return value;
  }
}
