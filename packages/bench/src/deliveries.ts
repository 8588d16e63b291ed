// Cheap accounting of what a load-generator client receives. A record (Hush) or frame (raw) holds
// "\n"-separated JSON lines whose first key is `type`; room messages and acks are recognised by
// their prefix, never parsed. Latency stamps ride inside the message text as `~T<ms>~` and are read
// only by observer clients.

const MESSAGE_PREFIX = Buffer.from('{"type":"message"');
const ACK_PREFIX = Buffer.from('{"type":"ack"');
const NEWLINE = 10;
const STAMP = Buffer.from('~T');
const STAMP_END = 0x7e; // '~'

export interface LineCounts {
  messages: number;
  acks: number;
}

/**
 * Counts message and ack lines in `payload`; calls `other` with every other line (rare: errors,
 * presence, replies), which the caller may parse.
 */
export function countLines(payload: Buffer, counts: LineCounts, other?: (line: Buffer) => void): void {
  let start = 0;
  const end = payload.length;
  while (start < end) {
    let stop = payload.indexOf(NEWLINE, start);
    if (stop === -1) stop = end;
    const length = stop - start;
    if (length >= MESSAGE_PREFIX.length && payload.compare(MESSAGE_PREFIX, 0, MESSAGE_PREFIX.length, start, start + MESSAGE_PREFIX.length) === 0) counts.messages++;
    else if (length >= ACK_PREFIX.length && payload.compare(ACK_PREFIX, 0, ACK_PREFIX.length, start, start + ACK_PREFIX.length) === 0) counts.acks++;
    else if (other) other(payload.subarray(start, stop));
    start = stop + 1;
  }
}

/** Reads every `~T<ms>~` stamp in `payload` and records now - stamp. */
export function readStamps(payload: Buffer, now: number, latencies: number[]): void {
  let at = payload.indexOf(STAMP);
  while (at !== -1) {
    const end = payload.indexOf(STAMP_END, at + 2);
    if (end === -1) return;
    const sent = Number(payload.toString('latin1', at + 2, end));
    if (Number.isFinite(sent)) latencies.push(now - sent);
    at = payload.indexOf(STAMP, end + 1);
  }
}

/** A message text of exactly `size` bytes carrying a send stamp (ms, performance.now()). */
export function stampedText(sentAt: number, size: number): string {
  const head = `~T${sentAt.toFixed(3)}~`;
  return head.length >= size ? head : head + 'x'.repeat(size - head.length);
}
