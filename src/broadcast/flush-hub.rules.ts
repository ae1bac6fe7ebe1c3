import { ForbiddenException } from '@nestjs/common';
import {
  compileChannelPattern,
  type FlushAuthorizeFn,
  type FlushAuthorizeRule,
} from './flush-authorize.interface.js';

/**
 * FlushModule's `authorize` option, compiled once: a function for every channel, or rules whose
 * channel patterns pick the first that matches. @internal
 */
export class HubAuthorizeRules {
  private readonly rules: { pattern: RegExp; authorize: FlushAuthorizeFn }[];

  constructor(authorize: FlushAuthorizeFn | readonly FlushAuthorizeRule[] | undefined) {
    this.rules =
      typeof authorize === 'function'
        ? [{ pattern: /^/, authorize }]
        : (authorize ?? []).map(rule => ({
            pattern: compileChannelPattern(rule.channel),
            authorize: rule.authorize,
          }));
  }

  /** Whether any rule exists (then every stream must be authorized, or skip it explicitly). */
  get active(): boolean {
    return this.rules.length > 0;
  }

  /**
   * Throws a `ForbiddenException` (403) unless the rules allow `request` on `channel`, a name
   * already checked (a run's channel may be 204 characters). No rules: every channel is allowed;
   * with rules, a channel no rule matches is denied.
   */
  async apply(channel: string, request: unknown): Promise<void> {
    if (this.rules.length === 0) return;
    const rule = this.rules.find(r => r.pattern.test(channel));
    if (!rule || !(await rule.authorize(channel, request))) {
      throw new ForbiddenException(`Not allowed to stream channel "${channel}"`);
    }
  }
}
