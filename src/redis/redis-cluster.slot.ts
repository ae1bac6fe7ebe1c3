/*
 * Redis Cluster key slots: CRC16 (XMODEM) of the key, or of its hash tag (the part between the
 * first `{` and the next `}`, when not empty), modulo 16384. What `CLUSTER KEYSLOT` answers.
 * @see https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags
 */

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[i] = crc & 0xffff;
  }
  return table;
})();

const crc16 = (bytes: Uint8Array): number => {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff];
  return crc;
};

/** The cluster slot (0-16383) of a key or shard channel name. @internal */
export const keySlot = (key: string): number => {
  const bytes = Buffer.from(key, 'utf8');
  const open = bytes.indexOf(0x7b); // {
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1); // }
    if (close > open + 1) return crc16(bytes.subarray(open + 1, close)) % 16384;
  }
  return crc16(bytes) % 16384;
};

/**
 * The name of a channel's stream and shard channel on a cluster: `{<prefix><channel>}`, a hash
 * tag around the whole name, so that every key of the channel stays in its slot. @internal
 */
export const clusterKey = (keyPrefix: string, channel: string): string =>
  `{${keyPrefix}${channel}}`;
