import { createHash } from 'node:crypto';
import type { RedisClientLike } from './redis-client.interface.js';
import { messageOf, withTimeout } from './redis-transport.error.js';

/** A Lua script and its SHA1 digest (for `EVALSHA`). @internal */
export interface LuaScript {
  readonly text: string;
  readonly sha: string;
}

/** A script with its digest. @internal */
export const lua = (text: string): LuaScript => ({
  text,
  sha: createHash('sha1').update(text).digest('hex'),
});

/**
 * Appends an event to the channel's stream (Redis assigns the id), trims the stream, and
 * announces the event with its id on Pub/Sub: atomic, one round trip, so Pub/Sub order is id
 * order on every instance.
 * KEYS[1] stream key. ARGV: 1 trim operator (`~` or `=`), 2 max length, 3 max age in ms or '',
 * 4 Pub/Sub channel, 5 the entry as JSON `{"event"?,"data"}`, 6 key TTL in ms or ''.
 */
const PUBLISH_TEMPLATE = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], ARGV[2], '*', 'm', ARGV[5])
if ARGV[3] ~= '' then
  local cutoff = tonumber(string.match(id, '^(%d+)')) - tonumber(ARGV[3])
  if cutoff > 0 then
    redis.call('XTRIM', KEYS[1], 'MINID', ARGV[1], string.format('%.0f', cutoff))
  end
end
if ARGV[6] ~= '' then
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
end
redis.call('PUBLISH', ARGV[4], '{"id":"' .. id .. '",' .. string.sub(ARGV[5], 2))
return id
`;
/** The publish script on one Redis server (`PUBLISH`). @internal */
export const PUBLISH_SCRIPT = lua(PUBLISH_TEMPLATE);

/**
 * `PUBLISH_SCRIPT` for a Redis Cluster: the event is announced with `SPUBLISH` (sharded Pub/Sub,
 * Redis >= 7) on a shard channel in the stream's slot, so only the shard that stores the channel
 * carries its traffic. ARGV[4] must hash to the slot of KEYS[1] (Redis refuses it otherwise).
 * @internal
 */
export const SHARDED_PUBLISH_SCRIPT = lua(
  PUBLISH_TEMPLATE.replace("redis.call('PUBLISH'", "redis.call('SPUBLISH'"),
);

/**
 * Reads what a resume needs, atomically: nil when the stream does not exist; otherwise
 * { last-generated-id } when ARGV[1] is '' or not an entry of the stream, and
 * { last-generated-id, entries from ARGV[1] on (inclusive) } when it is. ARGV[1] '0-0' asks for
 * the whole stream: { last-generated-id, every entry } iff nothing was ever trimmed
 * (`entries-added` equals the length: Redis >= 7), else { last-generated-id }.
 * KEYS[1] stream key. ARGV[1] the client's last event id, '0-0', or ''.
 * @internal
 */
export const REPLAY_SCRIPT = lua(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local last, added, length = false, -1, -2
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then last = info[i + 1]
  elseif info[i] == 'entries-added' then added = info[i + 1]
  elseif info[i] == 'length' then length = info[i + 1] end
end
if ARGV[1] == '' then return { last } end
if ARGV[1] == '0-0' then
  if added ~= length then return { last } end
  return { last, redis.call('XRANGE', KEYS[1], '-', '+') }
end
if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then return { last } end
return { last, redis.call('XRANGE', KEYS[1], ARGV[1], '+') }
`);

/**
 * Runs `script` on one key with EVALSHA, falling back to EVAL when Redis does not have the script
 * (e.g. after a restart). Unbounded: the caller adds the timeout.
 * @internal
 */
export const evalScript = async (
  client: RedisClientLike,
  script: LuaScript,
  key: string,
  args: (string | number)[],
): Promise<unknown> => {
  try {
    return await client.evalsha(script.sha, 1, key, ...args);
  } catch (err) {
    if (!messageOf(err).includes('NOSCRIPT')) throw err;
    return await client.eval(script.text, 1, key, ...args);
  }
};

/**
 * `evalScript` bounded by `timeoutMs`: rejects with a RedisFlushTransportError (`unavailable`)
 * when Redis has not answered by then.
 * @internal
 */
export const runScript = (
  client: RedisClientLike,
  script: LuaScript,
  key: string,
  args: (string | number)[],
  timeoutMs: number,
): Promise<unknown> =>
  withTimeout(
    evalScript(client, script, key, args),
    timeoutMs,
    () => `no reply from Redis within ${timeoutMs} ms`,
  );
