import { Module } from '@nestjs/common';
import { LlmController } from './llm.controller.js';
import { LlmService } from './llm.service.js';
import { OpenAiController } from './openai.controller.js';

@Module({ controllers: [LlmController, OpenAiController], providers: [LlmService] })
export class LlmModule {}
