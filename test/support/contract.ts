import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OpenAPIObject } from '@nestjs/swagger';
import ChowChow, { type ChowError } from 'oas3-chow-chow';

// The response side of the OpenAPI contract: every response an e2e spec receives through supertest is
// checked against the document its server publishes (contract-hook.ts). oas3-chow-chow (Ajv) compiles
// each documented response once per document and checks its status, content type, headers and body; this
// file decides which description applies and names what differed.

export interface ObservedResponse {
  method: string;
  url: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed body for JSON media types, the text for the rest. */
  body: unknown;
}

const SNAPSHOT = join(__dirname, '..', '..', 'openapi.json');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const UNDOCUMENTED = 'undocumented-path';
const JSON_MEDIA = /^application\/(.+\+)?json$/;

// Headers the transport, caching and the security policy (helmet, src/http/security-headers.ts) add to
// every answer: a client has nothing to read in them. Any other header the server sends is documented.
const GENERIC_HEADERS = new Set([
  ...['content-type', 'content-length', 'date', 'connection', 'keep-alive', 'transfer-encoding', 'vary'],
  ...['cache-control', 'content-encoding', 'accept-ranges', 'last-modified'],
  ...['content-security-policy', 'cross-origin-opener-policy', 'cross-origin-resource-policy'],
  ...['cross-origin-embedder-policy', 'origin-agent-cluster', 'referrer-policy', 'strict-transport-security'],
  ...['x-content-type-options', 'x-dns-prefetch-control', 'x-download-options', 'x-frame-options'],
  ...['x-permitted-cross-domain-policies', 'x-xss-protection', 'permissions-policy'],
]);

// Any request can meet these whatever its operation: a request head over Node's limit (refused before
// routing) and an unexpected failure. An operation need not list them; they are still problem+json.
const ANY_OPERATION = new Set([431, 500]);
const AJV = { strict: false, validateSchema: false } as const;

type Responses = Record<string, { headers?: Record<string, unknown>; content?: Record<string, unknown> }>;
interface Operation {
  operationId: string;
  responses: Responses;
}

export class ResponseContract {
  // Compiled on first use, one operation at a time: a spec file meets a few of them, and each compiled
  // response costs Ajv some milliseconds.
  private readonly compiled = new Map<string, Promise<ChowChow>>();

  private constructor(
    private readonly document: OpenAPIObject,
    private readonly operations: Map<string, Operation>,
    private readonly routes: { template: string; pattern: RegExp }[],
  ) {}

  static create(document: OpenAPIObject): ResponseContract {
    const problem = Object.keys(document.components?.schemas ?? {}).find((name) => /^ProblemDetails(Dto)?$/.test(name));
    if (!problem) throw new Error('the document has no ProblemDetails schema');
    const operations = new Map<string, Operation>();
    for (const item of Object.values(document.paths) as Partial<Record<string, Operation>>[]) {
      for (const method of METHODS) if (item[method]) operations.set(item[method].operationId, item[method]);
    }
    // A synthetic operation for paths outside the document: a problem+json error of any status.
    const content = { 'application/problem+json': { schema: { $ref: `#/components/schemas/${problem}` } } };
    operations.set(UNDOCUMENTED, { operationId: UNDOCUMENTED, responses: { default: { content } } });
    // Literal segments before parameters, so /tasks/stats is never taken for /tasks/{id}.
    const routes = Object.keys(document.paths)
      .sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))
      .map((template) => ({ template, pattern: new RegExp(`^${template.replace(/\{[^}]+}/g, '[^/]+')}$`) }));
    return new ResponseContract(document, operations, routes);
  }

  /** What differs between the response and the document, one line each; empty when it matches. */
  async check(response: ObservedResponse): Promise<string[]> {
    const path = new URL(response.url, 'http://localhost').pathname;
    const route = this.routes.find((candidate) => candidate.pattern.test(path));
    const method = response.method.toLowerCase();
    if (!route) return this.checkUndocumented(path, response);
    const item = this.document.paths[route.template] as Partial<Record<string, Operation>>;
    const operation = item[method] ?? (method === 'head' ? item.get : undefined);
    if (!operation) return this.checkUnservedMethod(item, response);
    const documented = operation.responses[response.status] ?? operation.responses.default;
    if (!documented && ANY_OPERATION.has(response.status))
      return this.validate(UNDOCUMENTED, response, method === 'head');
    return [
      ...(await this.validate(operation.operationId, response, method === 'head')),
      ...undocumentedHeaders(documented, response),
    ];
  }

  /** The name a message gives the operation: `TasksController_update (PATCH /api/v1/tasks/{id})`. */
  describe(response: ObservedResponse): string {
    const path = new URL(response.url, 'http://localhost').pathname;
    const route = this.routes.find((candidate) => candidate.pattern.test(path));
    if (!route) return `${response.method} ${path} (no such path in the document)`;
    const item = this.document.paths[route.template] as Partial<Record<string, Operation>>;
    const operation = item[response.method.toLowerCase()] ?? (response.method === 'HEAD' ? item.get : undefined);
    if (!operation) return `${response.method} ${route.template} (the path is documented, the method is not)`;
    return `${operation.operationId} (${response.method} ${route.template})`;
  }

  // The docs themselves (Swagger UI's page and assets, the document) are no API; their errors still are.
  private async checkUndocumented(path: string, response: ObservedResponse): Promise<string[]> {
    if (/^\/docs([-/]|$)/.test(path) && response.status < 400) return [];
    const problems = response.status >= 400 ? [] : [`status ${response.status} on a path outside the document`];
    return [...problems, ...(await this.validate(UNDOCUMENTED, response, response.method === 'HEAD'))];
  }

  // A known path with a method it does not serve: 405, with Allow naming the methods it does (RFC 9110).
  private async checkUnservedMethod(item: Partial<Record<string, Operation>>, response: ObservedResponse) {
    const served = METHODS.filter((method) => item[method]).map((method) => method.toUpperCase());
    const allow = String(response.headers['allow'] ?? '')
      .split(',')
      .map((method) => method.trim().toUpperCase());
    const problems: string[] = [];
    if (response.status !== 405) problems.push(`status ${response.status} for an unserved method, expected 405`);
    if (served.some((method) => !allow.includes(method))) {
      problems.push(`Allow is "${response.headers['allow'] ?? ''}", expected it to name ${served.join(', ')}`);
    }
    return [...problems, ...(await this.validate(UNDOCUMENTED, response, response.method === 'HEAD'))];
  }

  private async validate(operationId: string, response: ObservedResponse, head: boolean): Promise<string[]> {
    const operation = this.operations.get(operationId)!;
    const documented = operation.responses[response.status] ?? operation.responses.default;
    const header = { ...response.headers };
    if (head) delete header['content-type'];
    try {
      (await this.compile(operation)).validateResponseByOperationId(operationId, {
        status: response.status,
        header,
        body: head ? undefined : response.body,
      });
    } catch (error) {
      return [explain(error as ChowError, response, documented)];
    }
    if (!head && !response.headers['content-type'] && documented?.content && response.status !== 204) {
      return [`no Content-Type, documented: ${Object.keys(documented.content).join(', ')}`];
    }
    return [];
  }

  // oas3-chow-chow on a document of this one operation's responses (requests are not checked here).
  private compile(operation: Operation): Promise<ChowChow> {
    let chow = this.compiled.get(operation.operationId);
    if (!chow) {
      const only = { operationId: operation.operationId, responses: operation.responses };
      const paths = { [`/${operation.operationId}`]: { get: only } };
      const document = structuredClone({ ...this.document, paths });
      chow = ChowChow.create(document, {
        responseBodyAjvOptions: AJV,
        headerAjvOptions: { ...AJV, coerceTypes: true },
      });
      this.compiled.set(operation.operationId, chow);
    }
    return chow;
  }
}

function undocumentedHeaders(documented: Responses[string] | undefined, response: ObservedResponse): string[] {
  const names = new Set(Object.keys(documented?.headers ?? {}).map((name) => name.toLowerCase()));
  const extra = Object.keys(response.headers).filter((name) => !GENERIC_HEADERS.has(name) && !names.has(name));
  return extra.length ? [`header(s) sent but not documented for ${response.status}: ${extra.join(', ')}`] : [];
}

function explain(error: ChowError, response: ObservedResponse, documented?: Responses[string]): string {
  if (!error.meta) throw error;
  const type = String(response.headers['content-type'] ?? 'no content type');
  const details = (error.meta.rawErrors ?? []).map((raw) => {
    const { error: message, path, suggestion } = raw as { error?: string; path?: string; suggestion?: string };
    return [path, message?.trim() ?? JSON.stringify(raw), suggestion].filter(Boolean).join(' ');
  });
  if (/Status Code/.test(error.message)) return `status ${response.status} is not documented`;
  if (/Media Type/.test(error.message)) {
    const allowed = documented?.content ? Object.keys(documented.content).join(', ') : 'no body';
    return `content type ${type} is not documented for ${response.status} (documented: ${allowed})`;
  }
  const where = error.meta.in === 'response-header' ? 'headers' : `body (${type})`;
  return `${where} do not match the schema for ${response.status}: ${details.join('; ') || error.message}`;
}

export function isJsonMedia(contentType: string | undefined): boolean {
  return JSON_MEDIA.test((contentType ?? '').split(';')[0].trim());
}

export interface PublishedContract {
  contract: ResponseContract;
  /** Where the document came from, for the messages. */
  source: string;
}

const contracts = new Map<string, Promise<PublishedContract>>();

/**
 * The contract of the server at `origin`: the document it publishes at /docs-json, fetched once per origin
 * (and compiled once per distinct document), or the committed openapi.json when it publishes none
 * (DOCS_ENABLED=false, or a listener that only serves /metrics).
 */
export function contractOf(origin: string): Promise<PublishedContract> {
  let contract = contracts.get(origin);
  if (!contract) {
    contract = published(origin).then(({ text, source }) => ({ contract: compiled(text), source }));
    contracts.set(origin, contract);
  }
  return contract;
}

/**
 * Responses from `origin` are checked against `document` instead of what it publishes: the contract's own
 * tests, and servers that are not this build's API (the previous release, the metrics listener).
 */
export function useDocument(origin: string, document: OpenAPIObject, source = 'a crafted document'): void {
  contracts.set(origin, Promise.resolve({ contract: ResponseContract.create(document), source }));
}

/** The committed openapi.json, the document this build publishes (openapi-snapshot.e2e-spec.ts). */
export function snapshotDocument(): OpenAPIObject {
  return JSON.parse(readFileSync(SNAPSHOT, 'utf8')) as OpenAPIObject;
}

const byDocument = new Map<string, ResponseContract>();

function compiled(text: string): ResponseContract {
  let contract = byDocument.get(text);
  if (!contract) {
    contract = ResponseContract.create(JSON.parse(text) as OpenAPIObject);
    byDocument.set(text, contract);
  }
  return contract;
}

async function published(origin: string): Promise<{ text: string; source: string }> {
  const res = await fetch(`${origin}/docs-json`).catch(() => undefined);
  if (res?.status === 200 && isJsonMedia(res.headers.get('content-type') ?? '')) {
    return { text: await res.text(), source: `${origin}/docs-json` };
  }
  await res?.body?.cancel();
  const why = `${origin}/docs-json: ${res?.status ?? 'no answer'}`;
  return { text: readFileSync(SNAPSHOT, 'utf8'), source: `the committed openapi.json (${why})` };
}
