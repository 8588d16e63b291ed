import type { ClientMessageType } from './messages.js';

/**
 * The protocol version this package speaks. Client and server exchange the lists of versions they
 * support inside the authenticated handshake; the server picks the highest common one.
 * See PROTOCOL.md, "Versioning".
 */
export const PROTOCOL_VERSION = 6;

/** Versions this implementation can speak, highest first. */
export const SUPPORTED_VERSIONS: readonly number[] = [6, 5, 4];

/** Requests added by a compatible version, by that version: older sessions neither send nor accept them. */
const REQUESTS_SINCE: Partial<Record<ClientMessageType, number>> = {
  remove_device: 5,
  password_change: 5,
  read_markers_get: 6,
  devices_get: 6,
};

/** Whether a session that negotiated `version` may send a request of `type`. */
export function requestInVersion(type: ClientMessageType, version: number): boolean {
  return version >= (REQUESTS_SINCE[type] ?? 0);
}
