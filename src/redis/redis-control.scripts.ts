import type { LuaScript } from './redis.scripts.js';
import { lua } from './redis.scripts.js';

/*
 * The control plane's Lua scripts. Each touches exactly one key (KEYS[1]), so each is a
 * single-slot command on a Redis Cluster as it is. Lease times come from the Redis clock
 * (`TIME`), so the instances' clocks never matter. Scripts that read TIME and write are
 * replicated by effects (the default since Redis 5, the only mode since 7).
 */

/** `now` in ms from the Redis clock; the lease key's expiry follows its latest lapse time. */
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;
const EXPIRE_WITH_LAST_LEASE = `
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], string.format('%.0f', tonumber(last[2]))) end
`;

/**
 * Takes a slot of a lease key: removes lapsed leases; unless the holder has one already, refuses
 * (0) when `limit` live leases exist; otherwise sets the holder's lapse time to now + ttl (1).
 * The key expires with its last lease, so a dead instance's leases vanish with it.
 * KEYS[1] lease key (sorted set: member holder, score lapse time in ms).
 * ARGV: 1 holder, 2 limit, 3 ttl in ms.
 * @internal
 */
export const LEASE_ACQUIRE_SCRIPT: LuaScript = lua(`${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
${EXPIRE_WITH_LAST_LEASE}
return 1
`);

/**
 * Sets the lapse time of every given holder of one lease key to now + ttl, taking again the
 * leases that lapsed or were released meanwhile (their streams are still open).
 * KEYS[1] lease key. ARGV: 1 ttl in ms, 2... holders.
 * @internal
 */
export const LEASE_RENEW_SCRIPT: LuaScript = lua(`${NOW}
local lapse = now + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], lapse, ARGV[i]) end
${EXPIRE_WITH_LAST_LEASE}
return #ARGV - 1
`);

/**
 * Gives a slot back (the key disappears with its last member).
 * KEYS[1] lease key. ARGV[1] holder.
 * @internal
 */
export const LEASE_RELEASE_SCRIPT: LuaScript = lua(`
return redis.call('ZREM', KEYS[1], ARGV[1])
`);

/**
 * Live leases of a key (lapsed ones removed first).
 * KEYS[1] lease key.
 * @internal
 */
export const LEASE_COUNT_SCRIPT: LuaScript = lua(`${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
`);

/**
 * Stores a single-use value unless the id is taken: 1 stored, 0 taken.
 * KEYS[1] value key. ARGV: 1 value, 2 ttl in ms.
 * @internal
 */
export const VALUE_PUT_SCRIPT: LuaScript = lua(`
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
return 0
`);

/**
 * Returns a single-use value and deletes it, atomically (nil when absent or expired).
 * KEYS[1] value key.
 * @internal
 */
export const VALUE_TAKE_SCRIPT: LuaScript = lua(`
return redis.call('GETDEL', KEYS[1])
`);

/**
 * Publishes a control message. (A script, like every command of the transport, so that clients
 * passed in need only EVAL/EVALSHA besides Pub/Sub.)
 * KEYS[1] control Pub/Sub channel. ARGV[1] message.
 * @internal
 */
export const CONTROL_BROADCAST_SCRIPT: LuaScript = lua(`
return redis.call('PUBLISH', KEYS[1], ARGV[1])
`);

/**
 * `CONTROL_BROADCAST_SCRIPT` on a Redis Cluster: sharded Pub/Sub (`SPUBLISH`, Redis >= 7) on the
 * control channel's own slot.
 * @internal
 */
export const SHARDED_CONTROL_BROADCAST_SCRIPT: LuaScript = lua(`
return redis.call('SPUBLISH', KEYS[1], ARGV[1])
`);
