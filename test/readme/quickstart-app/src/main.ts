import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks(); // on SIGTERM every stream ends at once, with a jittered retry: hint
  await app.listen(process.env.PORT ?? 3000);
}
await bootstrap();
