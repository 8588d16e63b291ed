// Cheap accounting of what a load-generator client receives. A record (Hush) or frame (raw) holds
// "\n"-separated JSON lines whose first key is `type`; room messages and acks are recognised by
// their prefix, never parsed. Latency stamps ride inside the message text as `~T<ms>~` and are read
// only by observer clients. Hush echoes room messages to their sender (in server order, just ahead
// of the ack); the raw ceiling does not, so a Hush client counts one echo less per ack (see
// hush-client.ts), and observers skip their own lines (found by their `"from":"<name>"`) when
// reading stamps. This runs for every line the load generator receives: prefixes are compared
// byte by byte in JS, which is several times cheaper than a native Buffer.compare call per line.

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
 * Counts message and ack lines in `payload`; calls `other` with every other line (rare: errors,
 * presence, replies), which the caller may parse.
 */
export function countLines(payload: Buffer, counts: LineCounts, other?: (line: Buffer) => void): void {
  let start = 0;
  const end = payload.length;
  while (start < end) {
    let stop = payload.indexOf(NEWLINE, start);
    if (stop === -1) stop = end;
    if (startsWith(payload, start, stop, MESSAGE_PREFIX)) counts.messages++;
    else if (startsWith(payload, start, stop, ACK_PREFIX)) counts.acks++;
    else if (other) other(payload.subarray(start, stop));
    start = stop + 1;
  }
}

function startsWith(payload: Buffer, start: number, stop: number, prefix: Buffer): boolean {
  if (stop - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (payload[start + i] !== prefix[i]) return false;
  return true;
}

/** Where a line carries its send time: after `marker`, read by `read` from the byte after it. */
export interface StampFormat {
  marker: Buffer;
  /** The send time (NaN if unknown) and where the stamp ends, or null if the payload ends first. */
  read(payload: Buffer, from: number): { sentAt: number; end: number } | null;
}

/** Open rooms: `~T<ms>~` inside the message text. */
export const TEXT_STAMPS: StampFormat = {
  marker: STAMP,
  read(payload, from) {
    const end = payload.indexOf(STAMP_END, from);
    return end === -1 ? null : { sentAt: Number(payload.toString('latin1', from, end)), end: end + 1 };
  },
};

/**
 * End-to-end rooms: the text is sealed, so a message is known by the head of its envelope (the
 * base64url of the sender-key header: version, key id, iteration; unique per sender key and
 * message), which the sending load client recorded with its send time in `sentAt`.
 */
export function envelopeStamps(sentAt: ReadonlyMap<string, number>): StampFormat {
  return {
    marker: ENVELOPE,
    read(payload, from) {
      const end = from + ENVELOPE_HEAD_CHARS;
      return end > payload.length ? null : { sentAt: sentAt.get(payload.toString('latin1', from, end)) ?? Number.NaN, end };
    },
  };
}

/** Base64url characters that hold a sender-key message's 9-byte header (version, key id, iteration). */
export const ENVELOPE_HEAD_CHARS = 12;
const ENVELOPE = Buffer.from('"envelope":"');

/** Reads every stamp in `payload`, except in lines carrying `own`, and records now - its send time. */
export function readStamps(payload: Buffer, now: number, latencies: number[], own?: Buffer, format: StampFormat = TEXT_STAMPS): void {
  let mine = own ? payload.indexOf(own) : -1;
  let at = payload.indexOf(format.marker);
  while (at !== -1) {
    const stamp = format.read(payload, at + format.marker.length);
    if (stamp === null) return;
    if (mine === -1 || !isOwnLine()) {
      if (Number.isFinite(stamp.sentAt)) latencies.push(now - stamp.sentAt);
    }
    at = payload.indexOf(format.marker, stamp.end);
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
