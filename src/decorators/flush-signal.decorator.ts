import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { requestSignal, toRawRequest, toRawResponse } from '../writer/raw-response.util.js';

/**
 * An `AbortSignal` aborted within milliseconds of the client leaving (or of the stream ending):
 * hand it to producers such as an LLM or database call. Works on any HTTP route, NestJS 11 and 12.
 * @example @Post('complete') @Flush({ format: 'text' }) complete(@FlushSignal() signal: AbortSignal) { return llm.stream({ signal }); }
 * @publicApi
 */
export const FlushSignal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): AbortSignal => {
    const http = ctx.switchToHttp();
    return requestSignal(toRawRequest(http.getRequest()), toRawResponse(http.getResponse()));
  },
);
