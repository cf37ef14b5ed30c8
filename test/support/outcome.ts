import { HttpException } from '@nestjs/common';

/** For unit specs of services: the status and detail an HttpException carries, or the value it resolves to. */
export async function outcome(work: Promise<unknown>): Promise<unknown> {
  try {
    return await work;
  } catch (error) {
    if (!(error instanceof HttpException)) throw error;
    return { status: error.getStatus(), detail: error.message };
  }
}
