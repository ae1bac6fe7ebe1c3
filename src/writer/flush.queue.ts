/** A writer with a batch to send (StreamWriter). @internal */
export interface Flushable {
  flushBatch(): void;
}

/**
 * Writers with a batch to send this tick, flushed by one shared `process.nextTick` callback: a
 * broadcast to N connections schedules one callback, not N. Shared by every writer of the
 * process (a queue per tick, empty between ticks).
 */
const dirty: Flushable[] = [];
let flushQueued = false;

const flushDirty = (): void => {
  flushQueued = false;
  // Writers enqueued while flushing (a drain, a nested write) wait for the next callback.
  const writers = dirty.splice(0, dirty.length);
  for (const writer of writers) writer.flushBatch();
};

/** Queues a writer's batch for the end of this tick. @internal */
export const queueFlush = (writer: Flushable): void => {
  dirty.push(writer);
  if (!flushQueued) {
    flushQueued = true;
    process.nextTick(flushDirty);
  }
};
