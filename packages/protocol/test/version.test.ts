// Requests added by a compatible version are only for sessions that negotiated it (PROTOCOL.md, "Versioning").
import { describe, expect, it } from 'vitest';
import { CLIENT_MESSAGE_TYPES, PROTOCOL_VERSION, requestInVersion, SUPPORTED_VERSIONS } from '../src/index.js';

describe('requestInVersion', () => {
  it('keeps remove_device from version 4 sessions and gives it to version 5 ones', () => {
    expect(requestInVersion('remove_device', 4)).toBe(false);
    expect(requestInVersion('remove_device', 5)).toBe(true);
  });

  it('gives every request to a session of the current version, and version 4 every request but the added one', () => {
    expect(SUPPORTED_VERSIONS).toEqual([PROTOCOL_VERSION, 4]);
    for (const type of CLIENT_MESSAGE_TYPES) {
      expect(requestInVersion(type, PROTOCOL_VERSION)).toBe(true);
      expect(requestInVersion(type, 4)).toBe(type !== 'remove_device');
    }
  });
});
