// Requests added by a compatible version are only for sessions that negotiated it (PROTOCOL.md, "Versioning").
import { describe, expect, it } from 'vitest';
import { CLIENT_MESSAGE_TYPES, PROTOCOL_VERSION, requestInVersion, SUPPORTED_VERSIONS } from '../src/index.js';

describe('requestInVersion', () => {
  it('keeps remove_device and password_change from version 4 sessions and gives them to version 5 ones', () => {
    for (const type of ['remove_device', 'password_change'] as const) {
      expect(requestInVersion(type, 4)).toBe(false);
      expect(requestInVersion(type, 5)).toBe(true);
    }
  });

  it('keeps read_markers_get and devices_get from version 4 and 5 sessions and gives them to version 6 ones', () => {
    for (const type of ['read_markers_get', 'devices_get'] as const) {
      expect(requestInVersion(type, 4)).toBe(false);
      expect(requestInVersion(type, 5)).toBe(false);
      expect(requestInVersion(type, 6)).toBe(true);
    }
  });

  it('gives every request to a session of the current version, and older ones every request but those added since', () => {
    expect(SUPPORTED_VERSIONS).toEqual([PROTOCOL_VERSION, 5, 4]);
    const since5 = new Set(['remove_device', 'password_change']);
    const since6 = new Set(['read_markers_get', 'devices_get']);
    for (const type of CLIENT_MESSAGE_TYPES) {
      expect(requestInVersion(type, PROTOCOL_VERSION)).toBe(true);
      expect(requestInVersion(type, 5)).toBe(!since6.has(type));
      expect(requestInVersion(type, 4)).toBe(!since6.has(type) && !since5.has(type));
    }
  });
});
