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

  it('gives every request to a session of the current version, and version 4 every request but the added ones', () => {
    expect(SUPPORTED_VERSIONS).toEqual([PROTOCOL_VERSION, 4]);
    for (const type of CLIENT_MESSAGE_TYPES) {
      expect(requestInVersion(type, PROTOCOL_VERSION)).toBe(true);
      expect(requestInVersion(type, 4)).toBe(type !== 'remove_device' && type !== 'password_change');
    }
  });
});
