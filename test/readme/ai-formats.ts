// README "LLM streams: the OpenAI and AI SDK formats", compiled by `npm run lint` (tsc) and run
// with the official clients by ai-formats.e2e-spec.ts.
import { Body, Controller, Get, HttpCode, Module, Post } from '@nestjs/common';
import { Flush, FlushModule, FlushSignal } from 'nestjs-flush';

/** Stands for a model SDK: the answer token by token, stopped when the signal aborts. */
export async function* tokens(prompt: string, signal: AbortSignal): AsyncGenerator<string> {
  for (const token of ['You', ' said', ': ', prompt]) {
    await new Promise(resolve => setTimeout(resolve, 20));
    if (signal.aborted) return;
    yield token;
  }
}

interface ChatRequest {
  messages: { role: string; content?: string; parts?: { type: string; text?: string }[] }[];
}

const lastText = ({ messages }: ChatRequest): string => {
  const last = messages.at(-1);
  return last?.content ?? last?.parts?.find(part => part.type === 'text')?.text ?? '';
};

@Controller()
export class ChatController {
  // new OpenAI({ baseURL: 'http://localhost:3000/v1', apiKey }).chat.completions.create({ stream: true, … })
  @Post('v1/chat/completions')
  @HttpCode(200)
  @Flush({ format: 'openai', model: 'my-model' })
  completions(@Body() body: ChatRequest, @FlushSignal() signal: AbortSignal) {
    return tokens(lastText(body), signal); // strings become chat.completion.chunk deltas
  }

  // useChat() (its DefaultChatTransport posts to /api/chat)
  @Post('api/chat')
  @HttpCode(200)
  @Flush({ format: 'ai-sdk' })
  async *chat(@Body() body: ChatRequest, @FlushSignal() signal: AbortSignal) {
    yield { type: 'data-status', data: { state: 'thinking' }, transient: true }; // a part, as it is
    yield* tokens(lastText(body), signal); // strings become text deltas of one text part
  }

  // A web Response (here built; `return fetch(upstream)` works the same way)
  @Get('report.csv')
  @Flush()
  report(): Response {
    const rows = ['id,total\n', '1,42\n', '2,7\n'];
    const body = new ReadableStream<string>({
      pull: controller => {
        const row = rows.shift();
        if (row === undefined) controller.close();
        else controller.enqueue(row);
      },
    });
    return new Response(body.pipeThrough(new TextEncoderStream()), {
      status: 200,
      headers: { 'content-type': 'text/csv; charset=utf-8' },
    });
  }
}

@Module({ imports: [FlushModule.forRoot()], controllers: [ChatController] })
export class AppModule {}
