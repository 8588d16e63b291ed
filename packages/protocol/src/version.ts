/**
 * The protocol version this package speaks. Client and server exchange the lists of versions they
 * support inside the authenticated handshake; the server picks the highest common one.
 * See PROTOCOL.md, "Versioning".
 */
export const PROTOCOL_VERSION = 4;

/** Versions this implementation can speak, highest first. */
export const SUPPORTED_VERSIONS: readonly number[] = [4];
