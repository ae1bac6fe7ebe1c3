// A minimal, allocation-light SSE scanner for the bench clients: finds complete events in raw
// bytes and reads the `t` (send time) and `i` (sequence) of their JSON data. Comments, `id:`,
// `event:` and `retry:` lines are skipped; only events with a `{"t":` data line are reported.
const LF2 = Buffer.from('\n\n');
// Only the data line carries `{"t":` (better-sse writes `data:` with no space, others `data: `).
const DATA_T = Buffer.from('{"t":');
const COMMA_I = Buffer.from(',"i":');

/** Returns a function fed with chunks that calls `onEvent(t, i)` for every complete event. */
export const createScanner = onEvent => {
  let rest;
  return chunk => {
    let buf = rest ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const end = buf.indexOf(LF2, start);
      if (end < 0) break;
      const d = buf.indexOf(DATA_T, start);
      if (d >= 0 && d < end) {
        const tStart = d + DATA_T.length;
        const iMark = buf.indexOf(COMMA_I, tStart);
        if (iMark > 0 && iMark < end) {
          const t = Number(buf.latin1Slice(tStart, iMark));
          let j = iMark + COMMA_I.length;
          let i = 0;
          for (let c = buf[j]; c >= 48 && c <= 57; c = buf[++j]) i = i * 10 + (c - 48);
          onEvent(t, i);
        }
      }
      start = end + 2;
    }
    rest = start < buf.length ? buf.subarray(start) : undefined;
    if (rest && rest.length > 1 << 20)
      throw new Error('SSE event larger than 1 MiB: not a bench stream');
  };
};

/** Counts `data:` lines across chunk boundaries, for the burst (the cheapest exact count). */
export const createCounter = () => {
  const DATA = Buffer.from('\ndata:');
  const countIn = buf => {
    let n = 0;
    for (let k = buf.indexOf(DATA); k >= 0; k = buf.indexOf(DATA, k + DATA.length)) n++;
    return n;
  };
  const keep = DATA.length - 1;
  let tail = Buffer.from('\n'); // the stream's first line counts too
  let count = 0;
  return {
    feed(chunk) {
      // A match split by the boundary starts in the tail (the last bytes seen) and ends in chunk.
      if (tail.length) {
        const joint = Buffer.concat([tail, chunk.subarray(0, keep)]);
        for (
          let k = joint.indexOf(DATA);
          k >= 0 && k < tail.length;
          k = joint.indexOf(DATA, k + 1)
        ) {
          if (k + DATA.length > tail.length) count++;
        }
      }
      count += countIn(chunk);
      tail =
        chunk.length >= keep
          ? Buffer.from(chunk.subarray(chunk.length - keep))
          : Buffer.concat([tail, chunk]).subarray(-keep);
    },
    get count() {
      return count;
    },
  };
};
