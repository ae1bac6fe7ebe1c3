/** Heartbeat checks per interval: silence is measured to a tenth of the interval. @internal */
export const TICKS_PER_INTERVAL = 10;

/** A writer whose silence is checked (StreamWriter). @internal */
export interface SilenceChecked {
  checkSilence(tick: number): void;
}

/** The writers sharing one heartbeat interval, and their timer. @internal */
export interface HeartbeatGroup {
  timer: NodeJS.Timeout;
  writers: Set<SilenceChecked>;
  /** Checks made so far: a writer remembers the tick of its last write. */
  tick: number;
}

/**
 * Heartbeat checks, one timer per interval shared by every writer that uses it: an idle
 * connection costs a set entry, not a timer of its own. The timer stops with the interval's last
 * writer (its owner is the set of writers using it).
 */
const heartbeats = new Map<number, HeartbeatGroup>();
export const joinHeartbeat = (interval: number, writer: SilenceChecked): HeartbeatGroup => {
  let group = heartbeats.get(interval);
  if (!group) {
    const writers = new Set<SilenceChecked>();
    const created: HeartbeatGroup = {
      timer: undefined as unknown as NodeJS.Timeout,
      writers,
      tick: 0,
    };
    created.timer = setInterval(
      () => {
        created.tick++;
        for (const w of writers) w.checkSilence(created.tick);
      },
      Math.max(1, Math.floor(interval / TICKS_PER_INTERVAL)),
    );
    created.timer.unref();
    group = created;
    heartbeats.set(interval, group);
  }
  group.writers.add(writer);
  return group;
};
export const leaveHeartbeat = (interval: number, writer: SilenceChecked): void => {
  const group = heartbeats.get(interval);
  if (!group?.writers.delete(writer) || group.writers.size > 0) return;
  clearInterval(group.timer);
  heartbeats.delete(interval);
};
