// Runs the README's sample example (sample-openai.ts): the official openai client streams the
// sample's POST /v1/chat/completions, on the sample's own AppModule (global envelope and timeout
// interceptors included).
import type { INestApplication } from '@nestjs/common';
import { baseUrl } from 'nestjs-flush/testing';
import { AppModule } from '../../sample/app.module.js';
import { answerFor, tokenize } from '../../sample/llm/llm.service.js';
import { platforms, startApp } from '../utils/platforms.js';
import { askTheSample } from './sample-openai.js';

const TIMEOUT = 30000;

describe.each(platforms)('README: the sample with the openai client (%s)', platform => {
  let app: INestApplication;
  const redisUrl = process.env.REDIS_URL;
  beforeAll(async () => {
    delete process.env.REDIS_URL; // the sample on its in-memory hub
    app = await startApp(platform, [AppModule]);
  }, TIMEOUT);
  afterAll(async () => {
    await app?.close();
    if (redisUrl !== undefined) process.env.REDIS_URL = redisUrl;
  }, TIMEOUT);

  it(
    'streams the answer to the last user message, token by token',
    async () => {
      const question = 'What does nestjs-flush do?';
      const tokens: string[] = [];
      const answer = await askTheSample(question, t => tokens.push(t), `${baseUrl(app)}/v1`);
      expect(answer).toBe(answerFor(question));
      // One delta per token of the sample's generator (plus the empty delta of the finish chunk).
      expect(tokens.filter(t => t !== '')).toEqual(tokenize(answerFor(question)));
    },
    TIMEOUT,
  );

  it(
    'answers 400, before any byte, for a body without messages',
    async () => {
      const res = await fetch(`${baseUrl(app)}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: 'x' }),
      });
      expect(res.status).toBe(400);
    },
    TIMEOUT,
  );
});
