import { clusterKey, keySlot } from './redis-cluster.slot.js';

describe('keySlot', () => {
  // Reference values from the Redis Cluster specification and `CLUSTER KEYSLOT` on Redis 7.0.
  it.each([
    ['123456789', 12739],
    ['foo', 12182],
    ['{user1000}.following', 3443],
    ['{user1000}.followers', 3443],
    ['foo{}{bar}', 8363],
    ['foo{{bar}}zap', 4015],
    ['foo{bar}{zap}', 5061],
  ])('%s is in slot %d', (key, slot) => {
    expect(keySlot(key)).toBe(slot);
  });

  it('puts every name of a channel in one slot', () => {
    expect(keySlot(clusterKey('flush:', 'news'))).toBe(keySlot('flush:news'));
    expect(clusterKey('flush:', 'orders/42')).toBe('{flush:orders/42}');
  });
});
