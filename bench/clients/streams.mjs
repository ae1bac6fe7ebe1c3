// Opens many long-lived GET streams, each on its own socket, a bounded number at a time.
import http from 'node:http';

export const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

/** GET a JSON document. */
export const getJson = (url, timeoutMs = 10000) =>
  new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, res => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', d => (body += d));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch (err) {
          reject(new Error(`${url}: ${res.statusCode} ${body.slice(0, 200)}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: timeout`)));
    req.on('error', reject);
  });

/**
 * Opens `n` streams to `url`; `onChunk(index, chunk)` gets their bytes. Resolves once every
 * request is on the wire (headers may come later: Nest's @Sse() sends them with the first event).
 */
export const openStreams = async (
  url,
  n,
  { concurrency = 100, onChunk = () => {}, onError = () => {}, localAddresses } = {},
) => {
  const requests = new Array(n);
  let next = 0;
  let failed = 0;
  let closing = false;
  let closedByServer = 0;
  const one = index =>
    new Promise(resolve => {
      // Several loopback source addresses (127.0.0.2...) when one address would run out of ports.
      const req = http.get(url, {
        agent: false,
        ...(localAddresses?.length && {
          localAddress: localAddresses[index % localAddresses.length],
        }),
      });
      requests[index] = req;
      req.on('response', res => {
        res.on('data', chunk => onChunk(index, chunk));
        res.on('error', () => undefined);
        // A stream the server ended or dropped before we closed it.
        res.on('close', () => {
          if (!closing) closedByServer++;
        });
      });
      req.on('error', err => {
        failed++;
        onError(index, err);
        resolve();
      });
      // Written: the request is on the wire.
      req.on('finish', resolve);
    });
  const worker = async () => {
    while (next < n) await one(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return {
    requests,
    get failed() {
      return failed;
    },
    get closedByServer() {
      return closedByServer;
    },
    close: () => {
      closing = true;
      for (const req of requests) req?.destroy();
    },
  };
};

/** Polls `${base}/count` until `test(subscribers)` holds; returns the last count. */
export const waitForCount = async (base, test, timeoutMs) => {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = (await getJson(`${base}/count`)).subscribers;
    if (test(last)) return last;
    if (Date.now() > deadline) throw new Error(`subscribers stuck at ${last}`);
    await sleep(100);
  }
};

export const percentile = (sorted, p) =>
  sorted.length === 0
    ? undefined
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
