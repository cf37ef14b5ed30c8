/**
 * Response schemas of the task routes, for Fastify's serializer: fast-json-stringify compiles each once
 * at start-up and writes a task faster than `JSON.stringify`, and a response can never carry a field the
 * DTO does not declare. No `required`: as with `JSON.stringify`, a missing field is left out (never a
 * 500). They describe `TaskDto`, `TaskPageDto` and `TaskStatsDto`; test/tasks.e2e-spec.ts checks them
 * against the OpenAPI document, so a field added to a DTO but not here fails there instead of vanishing
 * from responses.
 */
const nullable = (type: string, format?: string) => ({ type: [type, 'null'], ...(format && { format }) });

export const TASK_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    title: { type: 'string' },
    description: nullable('string'),
    completed: { type: 'boolean' },
    // Date objects from the database, or ISO strings when an idempotent create replays a stored body.
    completedAt: nullable('string', 'date-time'),
    dueDate: nullable('string'),
    priority: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    version: { type: 'integer' },
  },
};

export const TASK_PAGE_SCHEMA = {
  type: 'object',
  properties: {
    items: { type: 'array', items: TASK_SCHEMA },
    nextCursor: nullable('string'),
  },
};

export const TASK_STATS_SCHEMA = {
  type: 'object',
  properties: {
    total: { type: 'integer' },
    completed: { type: 'integer' },
    pending: { type: 'integer' },
    overdue: { type: 'integer' },
  },
};

/** `@RouteSchema(...)` arguments: a task for `status`, the page for the list, the counts for stats. */
export const taskResponse = (status: 200 | 201) => ({ response: { [status]: TASK_SCHEMA } });
export const TASK_PAGE_RESPONSE = { response: { 200: TASK_PAGE_SCHEMA } };
export const TASK_STATS_RESPONSE = { response: { 200: TASK_STATS_SCHEMA } };
