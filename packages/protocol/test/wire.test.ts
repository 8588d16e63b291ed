// Binary fields in JSON: base64url, and the handshake messages to and from their wire form.
import { describe, expect, it } from 'vitest';
import { bundleFromWire, bundleToWire, fromBase64Url, handshakeFromWire, handshakeToWire, toBase64Url, validate } from '../src/index.js';

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe('base64url', () => {
  it('is unpadded, URL-safe, and reads a view of a larger buffer by its own bytes only', () => {
    expect(toBase64Url(new Uint8Array([0xfb, 0xff]))).toBe('-_8');
    const whole = new Uint8Array([1, 2, 3, 4]);
    expect(toBase64Url(whole.subarray(1, 3))).toBe(toBase64Url(new Uint8Array([2, 3])));
    expect(fromBase64Url('-_8')).toEqual(new Uint8Array([0xfb, 0xff]));
  });
});

describe('handshake messages', () => {
  it('round-trip through their validated wire form', () => {
    const clientHello = { versions: [1, 2], ephemeral: bytes(32, 1) };
    const serverHello = {
      version: 2,
      versions: [2],
      ephemeral: bytes(32, 2),
      identity: bytes(32, 3),
      signature: bytes(64, 4),
      finished: bytes(64, 5),
    };
    const clientFinished = { finished: bytes(64, 6) };
    const ch = validate('client', JSON.parse(JSON.stringify(handshakeToWire('client_hello', clientHello))));
    const sh = validate('server', JSON.parse(JSON.stringify(handshakeToWire('server_hello', serverHello))));
    const cf = validate('client', JSON.parse(JSON.stringify(handshakeToWire('client_finished', clientFinished))));
    if (ch.type !== 'client_hello' || sh.type !== 'server_hello' || cf.type !== 'client_finished') throw new Error('wrong types');
    expect(handshakeFromWire(ch)).toEqual(clientHello);
    expect(handshakeFromWire(sh)).toEqual(serverHello);
    expect(handshakeFromWire(cf)).toEqual(clientFinished);
  });

  it('device bundles round-trip', () => {
    const bundle = { signKey: bytes(32, 7), boxKey: bytes(32, 8), signature: bytes(64, 9) };
    expect(bundleFromWire(bundleToWire(bundle))).toEqual(bundle);
  });
});
