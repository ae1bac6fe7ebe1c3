// README "Stream tickets" example: a guarded route mints a ticket for the signed-in user, the
// stream route accepts it (its authorize rule alone would deny every browser). Run by
// tickets.e2e-spec.ts next to it.
import {
  Controller,
  Injectable,
  Module,
  Param,
  Post,
  Req,
  Sse,
  UnauthorizedException,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type MessageEvent,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import { FlushHub, FlushModule, FlushTickets, LastEventId } from 'nestjs-flush';

/** Stands in for the app's own authentication (a session, a JWT guard...). */
@Injectable()
export class SessionGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, unknown>; user?: unknown }>();
    if (typeof req.headers['x-user-id'] !== 'string') throw new UnauthorizedException();
    req.user = { id: req.headers['x-user-id'] };
    return true;
  }
}

@Controller('live')
export class LiveController {
  constructor(
    private readonly hub: FlushHub,
    private readonly tickets: FlushTickets,
  ) {}

  @Post('ticket')
  @UseGuards(SessionGuard) // your own authentication: a cookie or an Authorization header
  async ticket(@Req() req: { user: { id: string } }) {
    const ticket = await this.tickets.issue({
      subject: req.user.id, // becomes the stream key (caps, hub.disconnect({ key }))
      channels: [`users/${req.user.id}`],
      ttlMs: 30_000, // the default
    });
    return { ticket };
  }

  @Sse(':userId') // opened as /live/<userId>?ticket=<ticket>
  stream(
    @Req() req: unknown,
    @Param('userId') userId: string,
    @LastEventId() lastEventId?: string,
  ): Promise<Observable<MessageEvent>> {
    return this.hub.streamFor(req, `users/${userId}`, { lastEventId });
  }
}

@Module({
  imports: [
    FlushModule.forRoot({
      // Without a ticket nobody streams users/*: EventSource cannot send the session's header.
      authorize: [{ channel: 'users/*', authorize: () => false }],
    }),
  ],
  controllers: [LiveController],
  providers: [SessionGuard],
})
export class LiveModule {}
