import type { Chunk } from './stream-writer.options.js';

// Decisions (batch size, bounds) count string length: exact for ASCII, close enough otherwise;
// the bytes reported to metrics are exact.
const sizeOf = (chunk: Chunk): number => chunk.length;

const join = (chunks: Chunk[]): Chunk => {
  if (chunks.length === 1) return chunks[0];
  let strings = true;
  for (const chunk of chunks) if (typeof chunk !== 'string') strings = false;
  if (strings) return (chunks as string[]).join('');
  return Buffer.concat(chunks.map(c => (typeof c === 'string' ? Buffer.from(c) : c)));
};

/**
 * The chunks a writer gathered since its last flush (also those held while the socket drains),
 * and what the slow-client policies drop from them. Taken as one chunk, with the drop notice in
 * front when frames were dropped since the client was last told.
 * @internal
 */
export class PendingBatch {
  private chunks: Chunk[] = [];
  private bytes = 0;
  /** Frames dropped since the client was last told. */
  private droppedUntold = 0;

  constructor(private readonly dropNotice: ((count: number) => Chunk) | undefined) {}

  /** Size of what is gathered (string length for text). */
  get size(): number {
    return this.bytes;
  }

  get isEmpty(): boolean {
    return this.chunks.length === 0;
  }

  add(chunk: Chunk): void {
    this.chunks.push(chunk);
    this.bytes += sizeOf(chunk);
  }

  /** Puts `chunk` before everything gathered (a preamble written once the headers are out). */
  addFirst(chunk: Chunk): void {
    this.chunks.unshift(chunk);
    this.bytes += sizeOf(chunk);
  }

  /** `drop-newest`: drops the chunk just added. */
  dropNewest(): void {
    const chunk = this.chunks.pop();
    if (chunk === undefined) return;
    this.bytes -= sizeOf(chunk);
    this.droppedUntold++;
  }

  /** `drop-oldest`: drops the oldest chunks while `over()` says so, keeping the newest. */
  dropOldest(over: () => boolean): number {
    let dropped = 0;
    while (this.chunks.length > 1 && over()) {
      this.bytes -= sizeOf(this.chunks.shift()!);
      dropped++;
    }
    this.droppedUntold += dropped;
    return dropped;
  }

  /**
   * Everything gathered as one chunk, or undefined when there is nothing. The frames that were
   * dropped came before (drop-oldest) or among (drop-newest) those gathered now: the notice goes
   * first, and the client knows to resync.
   */
  take(): Chunk | undefined {
    if (this.droppedUntold > 0 && this.dropNotice) {
      this.chunks.unshift(this.dropNotice(this.droppedUntold));
      this.droppedUntold = 0;
    }
    if (this.chunks.length === 0) return undefined;
    const data = join(this.chunks);
    this.clear();
    return data;
  }

  clear(): void {
    this.chunks = [];
    this.bytes = 0;
  }
}
