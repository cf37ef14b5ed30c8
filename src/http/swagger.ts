import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ProblemDetailsDto, ValidationProblemDto } from './problem-details';

/** The routes that serve Swagger UI's page (the rest under /docs are its scripts, styles and images). */
export const SWAGGER_UI_PAGES = ['/docs', '/docs/', '/docs/index.html'] as const;

/** The OpenAPI 3 document, from the controllers and DTOs; it also drives serialization (response-schemas.ts). */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Tasks API')
    .setDescription(
      'A multi-user task backend. Authenticate with `POST /api/v1/auth/login` (or register), then press ' +
        '"Authorize" and paste the `accessToken`. Every error is RFC 9457 `application/problem+json`.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  return SwaggerModule.createDocument(app, config, { extraModels: [ProblemDetailsDto, ValidationProblemDto] });
}

/** Swagger UI at /docs and the document at /docs-json, outside the /api/v1 prefix. */
export function serveDocs(app: INestApplication, document: OpenAPIObject): void {
  // Without persistAuthorization: a bearer token pasted into "Authorize" stays in the page's memory and
  // never reaches localStorage, where any script on the origin could read it long after.
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
