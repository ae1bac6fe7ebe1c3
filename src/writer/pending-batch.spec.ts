import { describe, expect, it } from '@jest/globals';
import { PendingBatch } from './pending-batch.js';

const notice = (count: number) => `dropped ${count}\n`;

describe('PendingBatch', () => {
  it('takes one chunk as it is, and several joined in order (text, or bytes when any is bytes)', () => {
    const batch = new PendingBatch(undefined);
    expect(batch.take()).toBeUndefined();
    const one = Buffer.from('x');
    batch.add(one);
    expect(batch.take()).toBe(one);
    batch.add('b');
    batch.add('c');
    batch.addFirst('a');
    expect(batch.size).toBe(3);
    expect(batch.take()).toBe('abc');
    expect(batch.isEmpty).toBe(true);
    expect(batch.size).toBe(0);
    batch.add('a');
    batch.add(Buffer.from('b'));
    expect(batch.take()).toEqual(Buffer.from('ab'));
  });

  it('drop-newest drops the chunk just added, also when it equals an older one', () => {
    const batch = new PendingBatch(notice);
    batch.add('same');
    batch.add('same');
    batch.dropNewest();
    expect(batch.size).toBe(4);
    batch.add('new');
    expect(batch.take()).toBe('dropped 1\nsamenew');
    batch.add('only');
    batch.dropNewest();
    expect(batch.isEmpty).toBe(true);
    expect(batch.take()).toBe('dropped 1\n');
  });

  it('drop-oldest drops from the front while over the bound, keeping the newest chunk', () => {
    const batch = new PendingBatch(notice);
    for (const chunk of ['1', '2', '3', '4']) batch.add(chunk);
    expect(batch.dropOldest(() => batch.size > 2)).toBe(2);
    expect(batch.dropOldest(() => true)).toBe(1);
    expect(batch.size).toBe(1);
    expect(batch.take()).toBe('dropped 3\n4');
    expect(batch.take()).toBeUndefined(); // told once
  });

  it('without a notice (text), drops silently', () => {
    const batch = new PendingBatch(undefined);
    batch.add('a');
    batch.add('b');
    batch.dropNewest();
    expect(batch.take()).toBe('a');
  });
});
