import { ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import type { AuthUser } from '../common/auth-user';
import { ListTasksQueryDto } from './dto/list-tasks-query.dto';
import type { TaskDto } from './dto/task.dto';
import { IdempotencyService } from './idempotency.service';
import { TaskCursorCodec } from './task-cursor';
import type { Sort } from './task-sort';
import { TasksRepository } from './tasks.repository';
import { TasksService } from './tasks.service';
import { outcome } from '../../test/support/outcome';

const SECRET = 'unit-test-secret-that-is-long-enough-0123456789';
const USER: AuthUser = {
  id: '0193d6c2-7d4e-7c1a-9f1e-3c2b1a0f9e8d',
  sessionId: '0193d6c2-7d4e-7c1a-9f1e-000000000001',
};
const TASK_ID = '0193d6c2-7d4e-7c1a-9f1e-0000000000aa';
const TASK = { id: TASK_ID, title: 'report', version: 4 } as TaskDto;

describe('TasksService', () => {
  let service: TasksService;
  const tasks = {
    list: jest.fn(),
    findOne: jest.fn(),
    update: jest.fn(),
    toggle: jest.fn(),
    delete: jest.fn(),
    exists: jest.fn(),
  };
  const cursors = new TaskCursorCodec(SECRET);

  beforeEach(async () => {
    for (const fake of Object.values(tasks)) fake.mockReset();
    const moduleRef = await Test.createTestingModule({
      providers: [
        TasksService,
        { provide: TasksRepository, useValue: tasks },
        { provide: IdempotencyService, useValue: {} },
        { provide: ConfigService, useValue: { get: () => ({ jwtSecret: SECRET }) } },
      ],
    }).compile();
    service = moduleRef.get(TasksService);
  });

  const query = (sort: Sort, cursor?: string) => Object.assign(new ListTasksQueryDto(), { sort, limit: 20, cursor });

  describe('list', () => {
    it('reads the page after the cursor and hands out a cursor of the same sort for the next one', async () => {
      tasks.list.mockResolvedValue({ tasks: [TASK], next: { value: 'report', id: TASK_ID } });
      const after = { sort: 'title' as const, value: 'annual', id: '0193d6c2-7d4e-7c1a-9f1e-0000000000a1' };

      const page = await service.list(USER, query('title', cursors.encode(after)));

      expect(tasks.list).toHaveBeenCalledWith(USER.id, expect.objectContaining({ after, limit: 20 }));
      expect(page.items).toEqual([TASK]);
      expect(cursors.decode(page.nextCursor!)).toEqual({ sort: 'title', value: 'report', id: TASK_ID });
    });

    it('answers nextCursor null on the last page', async () => {
      tasks.list.mockResolvedValue({ tasks: [TASK] });
      expect((await service.list(USER, query('-createdAt'))).nextCursor).toBeNull();
    });

    it('refuses a cursor of another sort with 400, before reading anything', async () => {
      const cursor = cursors.encode({ sort: 'title', value: 'annual', id: TASK_ID });
      expect(await outcome(service.list(USER, query('-createdAt', cursor)))).toEqual({
        status: 400,
        detail: 'cursor belongs to sort=title, not sort=-createdAt',
      });
      expect(tasks.list).not.toHaveBeenCalled();
    });

    it.each([
      ['made up', 'forged'],
      [
        'sealed with another key',
        new TaskCursorCodec(`${SECRET}-other`).encode({ sort: 'title', value: 'a', id: TASK_ID }),
      ],
    ])('refuses a cursor %s with 400, before reading anything', async (_name, cursor) => {
      expect(await outcome(service.list(USER, query('title', cursor)))).toEqual({
        status: 400,
        detail: 'cursor is not one this API issued',
      });
      expect(tasks.list).not.toHaveBeenCalled();
    });
  });

  it('answers a task the owner does not have with 404', async () => {
    tasks.findOne.mockResolvedValue(undefined);
    expect(await outcome(service.findOne(USER, TASK_ID))).toEqual({ status: 404, detail: `Task ${TASK_ID} not found` });
    expect(tasks.findOne).toHaveBeenCalledWith(USER.id, TASK_ID);
  });

  describe('a conditional write that touched nothing', () => {
    const PRECONDITION_FAILED = {
      status: 412,
      detail: 'The task has changed since the ETag in If-Match; fetch it again',
    };
    const NOT_FOUND = { status: 404, detail: `Task ${TASK_ID} not found` };

    it('answers 412 when If-Match was sent and the task exists (it has moved on)', async () => {
      tasks.update.mockResolvedValue(undefined);
      tasks.exists.mockResolvedValue(true);
      expect(await outcome(service.update(USER, TASK_ID, { title: 'x' }, [3]))).toEqual(PRECONDITION_FAILED);
      expect(tasks.update).toHaveBeenCalledWith(USER.id, TASK_ID, { title: 'x' }, [3]);
      expect(tasks.exists).toHaveBeenCalledWith(USER.id, TASK_ID);
    });

    it('answers 404 when If-Match was sent and the task is not the owner’s', async () => {
      tasks.update.mockResolvedValue(undefined);
      tasks.exists.mockResolvedValue(false);
      expect(await outcome(service.update(USER, TASK_ID, { title: 'x' }, [3]))).toEqual(NOT_FOUND);
    });

    it('answers 404 without If-Match, without asking whether the task exists', async () => {
      tasks.update.mockResolvedValue(undefined);
      tasks.exists.mockResolvedValue(true);
      expect(await outcome(service.update(USER, TASK_ID, { title: 'x' }))).toEqual(NOT_FOUND);
      expect(tasks.exists).not.toHaveBeenCalled();
    });

    it('explains a toggle and a delete the same way', async () => {
      tasks.toggle.mockResolvedValue(undefined);
      tasks.delete.mockResolvedValue(false);
      tasks.exists.mockResolvedValue(true);
      expect(await outcome(service.toggle(USER, TASK_ID, [1]))).toEqual(PRECONDITION_FAILED);
      expect(await outcome(service.remove(USER, TASK_ID, [1]))).toEqual(PRECONDITION_FAILED);
      expect(await outcome(service.remove(USER, TASK_ID))).toEqual(NOT_FOUND);
    });

    it('returns the written task when the write matched', async () => {
      tasks.update.mockResolvedValue(TASK);
      expect(await service.update(USER, TASK_ID, { title: 'report' }, [3])).toBe(TASK);
      expect(tasks.exists).not.toHaveBeenCalled();
    });
  });
});
