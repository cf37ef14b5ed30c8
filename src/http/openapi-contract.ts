import type { HeaderObject, OpenAPIObject, OperationObject, ResponseObject, SchemaObject } from '@nestjs/swagger';
import { BODY_LIMIT_BYTES } from './json-body-parser';
import { PROBLEM_CONTENT_TYPE } from './problem-details';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;
// Fastify reads a body on these methods only: they alone can answer 413 and 415.
const WITH_BODY = new Set(['post', 'put', 'patch', 'delete']);
const PROBLEM = { $ref: '#/components/schemas/ProblemDetailsDto' };
const VALIDATION_PROBLEM = { $ref: '#/components/schemas/ValidationProblemDto' };

const header = (description: string, schema: SchemaObject, required = true): HeaderObject => ({
  description,
  required,
  schema,
});
const REQUEST_ID = header('The request id: the caller’s X-Request-Id when it is a sane token, else a UUID.', {
  type: 'string',
});
const RETRY_AFTER = header('Seconds to wait before retrying.', { type: 'integer', minimum: 0 });
const problem = (description: string, schema: object = PROBLEM): ResponseObject => ({
  description,
  content: { [PROBLEM_CONTENT_TYPE]: { schema } },
});

/** Responses every operation of a kind can give, whatever its controller declares. */
function commonResponses(path: string, method: string, operation: OperationObject): Record<string, ResponseObject> {
  const api = path.startsWith('/api/');
  const common: Record<string, ResponseObject> = {
    400: problem(
      api
        ? 'Invalid request: a malformed URL, a query parameter the operation does not declare, or a body that ' +
            'is not valid JSON or breaks a field’s rules (one `errors` entry per field).'
        : 'A malformed request or URL.',
      VALIDATION_PROBLEM,
    ),
    // Answered by Node's HTTP parser for any request (framework-errors.ts), before routing.
    408: problem('The request (or its headers) did not arrive in time; the connection closes.'),
    431: problem('The request headers (or the URL) are too large.'),
    500: problem('An unexpected error; quote `requestId` when reporting it.'),
    503: problem(
      api
        ? 'The database is unavailable, too slow or saturated, too many password checks are waiting (ARGON2_MAX_WAITING), ' +
            'or the service is shutting down: retry after `Retry-After`.'
        : 'The service is shutting down: retry after `Retry-After`.',
    ),
  };
  if (operation.security?.length) {
    common[401] = problem('Missing, invalid, expired or revoked access token, whatever the body.');
  }
  if (WITH_BODY.has(method)) {
    common[413] = problem(`The body exceeds ${BODY_LIMIT_BYTES} bytes.`);
    common[415] = problem('The body is not `application/json`.');
  }
  return common;
}

/**
 * Headers that come with a status, on every operation. Every 429 and every 503 added above names its
 * Retry-After; an operation's own 503 (the readiness probe's) may come without one.
 */
function headersOf(status: string, own: boolean): Record<string, HeaderObject> {
  const headers: Record<string, HeaderObject> = { 'X-Request-Id': REQUEST_ID };
  if (status === '401') headers['WWW-Authenticate'] = header('`Bearer`, the scheme to use.', { type: 'string' });
  if (status === '405')
    headers.Allow = header('The methods the path serves, e.g. `GET, HEAD, POST`.', { type: 'string' });
  if (status === '429') headers['Retry-After'] = RETRY_AFTER;
  if (status === '503') headers['Retry-After'] = { ...RETRY_AFTER, required: !own };
  return headers;
}

/**
 * What the decorators cannot say once per operation, said once for all: every error is RFC 9457
 * `application/problem+json`; the statuses any operation of a kind can answer (400, 408, 431, 500, 503; 401 when
 * it needs a token; 413 and 415 when it reads a body); the headers every response carries; request
 * bodies refuse unknown fields (the ValidationPipe's whitelist); an operation without a security
 * requirement is public (`security: []`). What an operation declares itself is kept.
 */
export function completeContract(document: OpenAPIObject): OpenAPIObject {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      operation.security ??= [];
      const declared = operation.responses as Record<string, ResponseObject>;
      const own = new Set(Object.keys(declared));
      for (const [status, response] of Object.entries(commonResponses(path, method, operation))) {
        declared[status] ??= response;
      }
      for (const [status, response] of Object.entries(declared)) {
        const json = response.content?.['application/json'];
        if (!status.startsWith('2') && json) response.content = { [PROBLEM_CONTENT_TYPE]: json };
        response.headers = { ...headersOf(status, own.has(status)), ...response.headers };
      }
      operation.responses = Object.fromEntries(Object.entries(declared).sort(([a], [b]) => a.localeCompare(b)));
      const body = operation.requestBody as { content?: Record<string, { schema?: { $ref?: string } }> } | undefined;
      const ref = body?.content?.['application/json']?.schema?.$ref;
      const schema = ref && (document.components?.schemas?.[ref.split('/').pop()!] as SchemaObject | undefined);
      if (schema) schema.additionalProperties = false;
      // A partial update changes what it names (RequireBody: at least one field); an absent field keeps its
      // value, so the defaults of a create do not apply.
      if (schema && method === 'patch') {
        schema.minProperties = 1;
        for (const property of Object.values(schema.properties ?? {})) delete (property as SchemaObject).default;
      }
    }
  }
  document.components!.responses = {
    ...document.components!.responses,
    // Not an operation's answer but a path's: a method the path does not serve (src/http/method-not-allowed.ts).
    MethodNotAllowed: {
      ...problem('The path does not serve this method; `Allow` lists those it does.'),
      headers: headersOf('405', false),
    },
  };
  return document;
}
