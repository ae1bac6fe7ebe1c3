// README "Stream controls" examples (the type-check is the test; test/stream-controls.e2e-spec.ts
// runs the same options on both adapters, test/redis-stream-controls.e2e-spec.ts across instances).
import { Controller, Module, Post, Req, Sse, type MessageEvent } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { FlushHub, FlushLimits, FlushModule, LastEventId } from 'nestjs-flush';

interface AuthedRequest {
  user?: { id: string; exp: number }; // set by your auth guard (a JWT's subject and exp)
}

@Module({
  imports: [
    FlushModule.forRoot({
      streamKey: (req: AuthedRequest) => req.user?.id, // default: the client IP
      maxStreamsPerKey: 3, // a 4th stream of the same user: 429 + Retry-After
      maxLifetimeMs: 3_600_000, // every stream ends after an hour: event: expired
      expiresAt: (req: AuthedRequest) => req.user && req.user.exp * 1000, // or when the JWT expires
    }),
  ],
})
export class AppModule {}

@Controller('feed')
@FlushLimits({ maxStreamsPerKey: 1 }) // the streams of this controller: one per user
export class FeedController {
  constructor(private readonly hub: FlushHub) {}

  @Sse()
  feed(
    @Req() req: AuthedRequest,
    @LastEventId() lastEventId?: string,
  ): Promise<Observable<MessageEvent>> {
    return this.hub.streamFor(req, 'feed', { lastEventId });
  }

  // After a logout or a role change: end the user's streams on every instance.
  @Post('logout')
  async logout(@Req() req: AuthedRequest): Promise<void> {
    if (req.user) await this.hub.disconnect({ key: req.user.id });
  }
}
