import { Module } from '@nestjs/common';
import { LlmController } from './llm.controller.js';
import { LlmService } from './llm.service.js';

@Module({ controllers: [LlmController], providers: [LlmService] })
export class LlmModule {}
