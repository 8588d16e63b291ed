// What the server accepts in names and fields (PROTOCOL.md sections 3 and 6), in one place: hush
// checks them before sending and states them in words, so a person never meets SCHEMA_VIOLATION.

export const USERNAME_PATTERN = /^[a-z0-9_-]{3,24}$/;
export const USERNAME_RULE = 'a username is 3 to 24 characters: lowercase letters a-z, digits 0-9, _ and -';
export const ROOM_PATTERN = /^[a-z0-9_-]{1,32}$/;
export const ROOM_RULE = 'a room name is 1 to 32 characters: a-z, 0-9, _ and -';
/** The server's default; its admin may set another minimum, which only the server's answer tells. */
export const PASSWORD_RULE =
  'a password needs at least 8 characters (unless the server admin set another minimum), not one character repeated, and not the username';
export const FIELD_MAX = { topic: 300, status: 100, reason: 200 } as const;
/** The longest timed mute the server takes (its protocol's bound). */
export const MAX_MUTE_SECONDS = 10 * 365 * 24 * 3600;
