import { describeControlPlaneContract } from '../../../test/utils/control-plane.conformance.js';
import { waitFor } from '../../../test/utils/wait.js';
import { InMemoryFlushControlPlane } from './in-memory.control-plane.js';
import { InMemoryFlushTransport } from './in-memory.transport.js';

const shared = new InMemoryFlushControlPlane();
describeControlPlaneContract('InMemoryFlushControlPlane', () => ({ a: shared, b: shared }));

describe('InMemoryFlushControlPlane', () => {
  it('is the control plane of InMemoryFlushTransport, released by its close()', async () => {
    const transport = new InMemoryFlushTransport();
    const got: string[] = [];
    await transport.control.listen(m => got.push(m));
    await transport.control.put('id', 'v', 1000);
    await transport.close();
    await transport.control.broadcast('after close');
    await Promise.resolve();
    expect(got).toEqual([]);
    expect(await transport.control.take('id')).toBeUndefined();
  });

  it('keeps delivering to the other listeners when one throws', async () => {
    const plane = new InMemoryFlushControlPlane();
    const got: string[] = [];
    await plane.listen(() => {
      throw new Error('listener bug');
    });
    await plane.listen(m => got.push(m));
    await plane.broadcast('m');
    await waitFor(() => got.length === 1, 'the second listener');
  });

  it('sweeps lapsed leases and expired values out without a timer', async () => {
    const plane = new InMemoryFlushControlPlane();
    const internals = plane as unknown as {
      leases: Map<string, unknown>;
      values: Map<string, unknown>;
      lastSweep: number;
    };
    for (let i = 0; i < 100; i++) {
      await plane.acquire(`k${i}`, 'h', 1, 1);
      await plane.put(`v${i}`, 'x', 1);
    }
    const last = performance.now();
    expect(internals.leases.size).toBe(100);
    await waitFor(() => performance.now() > last + 1, 'the lapse of the last lease and value');
    expect(await plane.count('k99')).toBe(0);
    internals.lastSweep = -Infinity; // the next write sweeps
    await plane.put('fresh', 'x', 60_000);
    expect(internals.leases.size).toBe(0);
    expect([...internals.values.keys()]).toEqual(['fresh']);
  });
});
