import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { completeContract } from './openapi-contract';
import { ProblemDetailsDto, ValidationProblemDto } from './problem-details';

/** The routes that serve Swagger UI's page (the rest under /docs are its scripts, styles and images). */
export const SWAGGER_UI_PAGES = ['/docs', '/docs/', '/docs/index.html'] as const;

const TAGS: [string, string][] = [
  ['auth', 'Register, sign in, refresh the token pair, sign out.'],
  ['sessions', 'The signed-in devices of the caller: list them, end one or all others.'],
  ['users', 'The caller’s account: read, rename, change email or password, delete.'],
  ['tasks', 'The caller’s tasks: create (idempotently), list by keyset pages, read, update with If-Match, delete.'],
  ['health', 'Kubernetes probes; no token, no /api/v1 prefix.'],
  ['operations', 'Prometheus metrics; no token, no /api/v1 prefix.'],
];

/** The OpenAPI 3 document, from the controllers and DTOs; it also drives serialization (response-schemas.ts). */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Tasks API')
    .setDescription(
      'A multi-user task backend. Authenticate with `POST /api/v1/auth/login` (or register), then press ' +
        '"Authorize" and paste the `accessToken`. Every error is RFC 9457 `application/problem+json`; every ' +
        'response carries `X-Request-Id`. Unknown body fields and undeclared query parameters are refused ' +
        '(400). A path asked with a method it does not serve is a 405 with `Allow` ' +
        '(`#/components/responses/MethodNotAllowed`); an unknown path is a 404.',
    )
    .setVersion('1')
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    // Paths carry their /api/v1 prefix: the server is the origin the document is served from.
    .addServer('/')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  for (const [name, description] of TAGS) builder.addTag(name, description);
  const document = SwaggerModule.createDocument(app, builder.build(), {
    extraModels: [ProblemDetailsDto, ValidationProblemDto],
  });
  return completeContract(document);
}

/** Swagger UI at /docs and the document at /docs-json, outside the /api/v1 prefix. */
export function serveDocs(app: INestApplication, document: OpenAPIObject): void {
  // Without persistAuthorization: a bearer token pasted into "Authorize" stays in the page's memory and
  // never reaches localStorage, where any script on the origin could read it long after.
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
