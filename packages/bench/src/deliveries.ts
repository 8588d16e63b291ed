// Cheap accounting of what a load-generator client receives. A record (Hush) or frame (raw) holds
// "\n"-separated JSON lines whose first key is `type`; room messages and acks are recognised by
// their prefix, never parsed. Latency stamps ride inside the message text as `~T<ms>~` and are read
// only by observer clients. Hush echoes room messages to their sender (in server order); the raw
// ceiling does not, so a client's own messages (found by their `"from":"<name>"`) are not counted.

const MESSAGE_PREFIX = Buffer.from('{"type":"message"');
const ACK_PREFIX = Buffer.from('{"type":"ack"');
const NEWLINE = 10;
const STAMP = Buffer.from('~T');
const STAMP_END = 0x7e; // '~'

export interface LineCounts {
  messages: number;
  acks: number;
}

/** What marks a client's own room messages in a line: `"from":"<name>"` (the quote after the name included). */
export function ownMarker(name: string): Buffer {
  return Buffer.from(`"from":${JSON.stringify(name)}`);
}

/**
 * Counts message and ack lines in `payload`, leaving out messages that carry `own` (see
 * `ownMarker`); calls `other` with every other line (rare: errors, presence, replies), which the
 * caller may parse.
 */
export function countLines(payload: Buffer, counts: LineCounts, other?: (line: Buffer) => void, own?: Buffer): void {
  let start = 0;
  const end = payload.length;
  // One forward search through the payload for the client's own lines (few: its echoes).
  let mine = own ? payload.indexOf(own) : -1;
  while (start < end) {
    let stop = payload.indexOf(NEWLINE, start);
    if (stop === -1) stop = end;
    const length = stop - start;
    if (length >= MESSAGE_PREFIX.length && payload.compare(MESSAGE_PREFIX, 0, MESSAGE_PREFIX.length, start, start + MESSAGE_PREFIX.length) === 0) {
      if (mine !== -1 && mine < start) mine = payload.indexOf(own!, start);
      if (mine !== -1 && mine < stop) mine = payload.indexOf(own!, stop);
      else counts.messages++;
    } else if (length >= ACK_PREFIX.length && payload.compare(ACK_PREFIX, 0, ACK_PREFIX.length, start, start + ACK_PREFIX.length) === 0) counts.acks++;
    else if (other) other(payload.subarray(start, stop));
    start = stop + 1;
  }
}

/** Reads every `~T<ms>~` stamp in `payload`, except in lines carrying `own`, and records now - stamp. */
export function readStamps(payload: Buffer, now: number, latencies: number[], own?: Buffer): void {
  let mine = own ? payload.indexOf(own) : -1;
  let at = payload.indexOf(STAMP);
  while (at !== -1) {
    const end = payload.indexOf(STAMP_END, at + 2);
    if (end === -1) return;
    if (mine !== -1 && isOwnLine()) {
      at = payload.indexOf(STAMP, end + 1);
      continue;
    }
    const sent = Number(payload.toString('latin1', at + 2, end));
    if (Number.isFinite(sent)) latencies.push(now - sent);
    at = payload.indexOf(STAMP, end + 1);
  }

  function isOwnLine(): boolean {
    const lineStart = payload.lastIndexOf(NEWLINE, at) + 1;
    if (mine < lineStart) mine = payload.indexOf(own!, lineStart);
    const lineEnd = payload.indexOf(NEWLINE, at);
    return mine !== -1 && mine < at && (lineEnd === -1 || mine < lineEnd);
  }
}

/** A message text of exactly `size` bytes carrying a send stamp (ms, performance.now()). */
export function stampedText(sentAt: number, size: number): string {
  const head = `~T${sentAt.toFixed(3)}~`;
  return head.length >= size ? head : head + 'x'.repeat(size - head.length);
}
