// In-memory terminal streams for driving the blessed app without a TTY, and a screen reader.
import { PassThrough, Writable } from 'node:stream';
import type blessed from 'blessed';

export class FakeOutput extends Writable {
  columns = 120;
  rows = 40;
  isTTY = true;
  data = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.data += chunk.toString();
    cb();
  }
}

export class FakeInput extends PassThrough {
  isTTY = true;
  isRaw = false;
  setRawMode(mode: boolean): this {
    this.isRaw = mode;
    return this;
  }
}

/** The text of the screen as blessed last drew it (wide characters' placeholder cells skipped). */
export function screenText(screen: blessed.Widgets.Screen): string {
  const lines = (screen as unknown as { lines: Array<Array<[number, string]>> }).lines;
  return lines
    .map((row) =>
      row
        .map((cell) => cell[1])
        .join('')
        .replace(/\x03/g, ''),
    )
    .join('\n');
}

export async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
