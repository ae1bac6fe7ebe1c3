import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { map, type Observable } from 'rxjs';

/** The body every JSON route of this app answers with. */
export interface Envelope<T> {
  code: number;
  message: string;
  data: T;
}

/**
 * The "unified response" wrapper most real Nest apps register globally. It is written the naive
 * way on purpose: it knows nothing about streams. Without nestjs-flush it would wrap every SSE
 * event into `{ code, message, data }`; with FlushModule imported it only touches JSON routes.
 */
@Injectable()
export class EnvelopeInterceptor implements NestInterceptor<unknown, Envelope<unknown>> {
  intercept(_context: ExecutionContext, next: CallHandler<unknown>): Observable<Envelope<unknown>> {
    return next.handle().pipe(map(data => ({ code: 0, message: '', data })));
  }
}
