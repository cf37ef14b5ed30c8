import { Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ProblemDetailsFilter } from './problem-details.filter';
import { ShutdownState } from './shutdown-state';
import { createValidationPipe } from './validation';

/** Cross-cutting HTTP concerns: one error shape, one validation policy, the shutdown state. */
@Global()
@Module({
  providers: [
    { provide: APP_FILTER, useClass: ProblemDetailsFilter },
    { provide: APP_PIPE, useFactory: createValidationPipe },
    ShutdownState,
  ],
  exports: [ShutdownState],
})
export class HttpModule {}
