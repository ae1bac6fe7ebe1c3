import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/**
 * `/docs` (Swagger UI) and `/docs-json` (the OpenAPI document): every route of the sample, the
 * stream routes with their content type and events (`@ApiFlush()` from nestjs-flush/swagger).
 * Called before `listen()` (main.ts, and the page tests). On fastify, Swagger UI's assets need
 * `@fastify/static`, a devDependency of this repository.
 */
export const setupDocs = (app: INestApplication): void => {
  const config = new DocumentBuilder()
    .setTitle('nestjs-flush demo')
    .setDescription(
      'The sample app of nestjs-flush: JSON routes (enveloped by a global interceptor) and stream routes (SSE, NDJSON, text), documented with @ApiFlush().',
    )
    .setVersion('1')
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config));
};
