// Scenario K client: holds N idle streams open (from several loopback source addresses) until
// its stdin closes, counting what arrives (heartbeats). Prints {"opened":N,...} once every request
// is on the wire; on a "report" line on stdin, prints {"report":true,"chunks","bytes",...}.
import { parseArgs } from '../lib/common.mjs';
import { openStreams } from './streams.mjs';

const args = parseArgs();
const n = Number(args.clients);
const localAddresses = args.localAddresses ? String(args.localAddresses).split(',') : undefined;
let chunks = 0;
let bytes = 0;
let heartbeats = 0;
const streams = await openStreams(`${args.url}/sub`, n, {
  concurrency: Number(args.concurrency ?? 200),
  localAddresses,
  onChunk: (_, chunk) => {
    chunks++;
    bytes += chunk.length;
    // A heartbeat is an SSE comment line (':' at a line start).
    if (chunk[0] === 0x3a) heartbeats++;
  },
});
process.stdout.write(`${JSON.stringify({ opened: n, failed: streams.failed })}\n`);
let input = '';
process.stdin.on('data', d => {
  input += d;
  let nl;
  while ((nl = input.indexOf('\n')) >= 0) {
    const line = input.slice(0, nl).trim();
    input = input.slice(nl + 1);
    if (line === 'report') {
      process.stdout.write(
        `${JSON.stringify({ report: true, chunks, bytes, heartbeats, failed: streams.failed, closedByServer: streams.closedByServer })}\n`,
      );
    }
  }
});
process.stdin.on('end', () => {
  streams.close();
  process.exit(0);
});
