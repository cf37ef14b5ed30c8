import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ProblemDetailsDto, ValidationProblemDto } from './problem-details';

/** Swagger UI at /docs and the OpenAPI 3 document at /docs-json, outside the /api/v1 prefix. */
export function setupSwagger(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Tasks API')
    .setDescription(
      'A multi-user task backend. Authenticate with `POST /api/v1/auth/login` (or register), then press ' +
        '"Authorize" and paste the `accessToken`. Every error is RFC 9457 `application/problem+json`.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    extraModels: [ProblemDetailsDto, ValidationProblemDto],
  });
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
}
