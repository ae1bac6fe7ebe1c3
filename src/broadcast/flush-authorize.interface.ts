/**
 * Decides whether a request may stream a channel. `request` is the framework request (express or
 * fastify), with whatever guards attached to it (`request.user`).
 * @publicApi
 */
export type FlushAuthorizeFn = (channel: string, request: unknown) => boolean | Promise<boolean>;

/**
 * An authorization rule for the channels matching `channel` (an exact name, a pattern with `*`
 * matching any run of characters except `/`, and `**` matching anything, or a RegExp).
 * @publicApi
 */
export interface FlushAuthorizeRule {
  channel: string | RegExp;
  authorize: FlushAuthorizeFn;
}

/** @internal */
export const compileChannelPattern = (pattern: string | RegExp): RegExp => {
  if (pattern instanceof RegExp) return pattern;
  const source = pattern
    .split('**')
    .map(part =>
      part
        .split('*')
        .map(s => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*'),
    )
    .join('.*');
  return new RegExp(`^${source}$`);
};
