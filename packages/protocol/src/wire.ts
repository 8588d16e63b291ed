// How binary values travel inside JSON messages: one rule for every peer (client, server, tools).
import type { ClientMessageOf, DeviceBundleWire, ServerMessageOf } from './messages.js';

/** Binary fields travel as unpadded base64url. */
export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** The bytes of a base64url field (the schemas have already checked its alphabet and length). */
export function fromBase64Url(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64url'));
}

type ClientHelloWire = ClientMessageOf<'client_hello'>;
type ServerHelloWire = ServerMessageOf<'server_hello'>;
type ClientFinishedWire = ClientMessageOf<'client_finished'>;

/** A handshake message as the handshake computes it (`@hush/crypto` has these shapes): its base64url fields as bytes. */
type Decoded<M> = { -readonly [K in Exclude<keyof M, 'type'>]: M[K] extends string ? Uint8Array : M[K] };
export type ClientHelloBytes = Decoded<ClientHelloWire>;
export type ServerHelloBytes = Decoded<ServerHelloWire>;
export type ClientFinishedBytes = Decoded<ClientFinishedWire>;

/** A handshake message as it is framed: its binary fields in base64url. */
export function handshakeToWire(type: 'client_hello', message: ClientHelloBytes): ClientHelloWire;
export function handshakeToWire(type: 'server_hello', message: ServerHelloBytes): ServerHelloWire;
export function handshakeToWire(type: 'client_finished', message: ClientFinishedBytes): ClientFinishedWire;
export function handshakeToWire(
  type: 'client_hello' | 'server_hello' | 'client_finished',
  message: ClientHelloBytes | ServerHelloBytes | ClientFinishedBytes,
): ClientHelloWire | ServerHelloWire | ClientFinishedWire {
  switch (type) {
    case 'client_hello': {
      const m = message as ClientHelloBytes;
      return { type, versions: m.versions, ephemeral: toBase64Url(m.ephemeral) };
    }
    case 'server_hello': {
      const m = message as ServerHelloBytes;
      return {
        type,
        version: m.version,
        versions: m.versions,
        ephemeral: toBase64Url(m.ephemeral),
        identity: toBase64Url(m.identity),
        signature: toBase64Url(m.signature),
        finished: toBase64Url(m.finished),
      };
    }
    case 'client_finished':
      return { type, finished: toBase64Url((message as ClientFinishedBytes).finished) };
  }
}

/** A received (already validated) handshake message, its binary fields decoded for the handshake. */
export function handshakeFromWire(message: ClientHelloWire): ClientHelloBytes;
export function handshakeFromWire(message: ServerHelloWire): ServerHelloBytes;
export function handshakeFromWire(message: ClientFinishedWire): ClientFinishedBytes;
export function handshakeFromWire(
  message: ClientHelloWire | ServerHelloWire | ClientFinishedWire,
): ClientHelloBytes | ServerHelloBytes | ClientFinishedBytes {
  switch (message.type) {
    case 'client_hello':
      return { versions: message.versions, ephemeral: fromBase64Url(message.ephemeral) };
    case 'server_hello':
      return {
        version: message.version,
        versions: message.versions,
        ephemeral: fromBase64Url(message.ephemeral),
        identity: fromBase64Url(message.identity),
        signature: fromBase64Url(message.signature),
        finished: fromBase64Url(message.finished),
      };
    case 'client_finished':
      return { finished: fromBase64Url(message.finished) };
  }
}

/** A device's public keys and their signature, as registration and key lookups carry them. */
export interface DeviceBundleBytes {
  signKey: Uint8Array;
  boxKey: Uint8Array;
  signature: Uint8Array;
}

export function bundleToWire(bundle: DeviceBundleBytes): DeviceBundleWire {
  return { signKey: toBase64Url(bundle.signKey), boxKey: toBase64Url(bundle.boxKey), signature: toBase64Url(bundle.signature) };
}

export function bundleFromWire(wire: DeviceBundleWire): DeviceBundleBytes {
  return { signKey: fromBase64Url(wire.signKey), boxKey: fromBase64Url(wire.boxKey), signature: fromBase64Url(wire.signature) };
}
