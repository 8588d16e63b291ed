// Database schema as an ordered list of migrations; PRAGMA user_version records how many ran.
// Append new steps; never edit a released one.

export const MIGRATIONS: readonly string[] = [
  // 1: initial schema
  `
  CREATE TABLE users (
    name TEXT PRIMARY KEY NOT NULL,
    password_hash TEXT,
    role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    created_at INTEGER NOT NULL,
    banned_until INTEGER,
    banned_forever INTEGER NOT NULL DEFAULT 0,
    ban_reason TEXT
  ) STRICT;

  CREATE TABLE devices (
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    sign_key TEXT NOT NULL,
    box_key TEXT NOT NULL,
    signature TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    PRIMARY KEY (user, sign_key)
  ) STRICT;

  -- Invite codes are bearer secrets: only their SHA-256 is kept.
  CREATE TABLE invites (
    code_hash TEXT PRIMARY KEY NOT NULL,
    created_by TEXT,
    created_at INTEGER NOT NULL,
    used_by TEXT,
    used_at INTEGER
  ) STRICT;

  CREATE TABLE rooms (
    name TEXT PRIMARY KEY NOT NULL,
    topic TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    created_by TEXT
  ) STRICT;

  CREATE TABLE members (
    room TEXT NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'op', 'member')),
    muted_until INTEGER,
    PRIMARY KEY (room, user)
  ) STRICT;
  CREATE INDEX members_by_user ON members(user);

  -- AUTOINCREMENT: ids are never reused, even after retention deletes the newest rows.
  CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('room', 'dm')),
    ts INTEGER NOT NULL,
    sender TEXT NOT NULL,
    room TEXT,
    recipient TEXT,
    conv TEXT,
    body TEXT NOT NULL,
    action INTEGER NOT NULL DEFAULT 0
  ) STRICT;
  CREATE INDEX messages_by_room ON messages(room, id) WHERE room IS NOT NULL;
  CREATE INDEX messages_by_conv ON messages(conv, id) WHERE conv IS NOT NULL;
  CREATE INDEX messages_by_recipient ON messages(recipient, id) WHERE recipient IS NOT NULL;
  CREATE INDEX messages_by_ts ON messages(ts);

  CREATE TABLE read_markers (
    user TEXT NOT NULL,
    conversation TEXT NOT NULL,
    msg_id INTEGER NOT NULL,
    PRIMARY KEY (user, conversation)
  ) STRICT;

  CREATE TABLE delivery_cursors (
    user TEXT PRIMARY KEY NOT NULL,
    msg_id INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE address_bans (
    address TEXT PRIMARY KEY NOT NULL,
    until INTEGER,
    forever INTEGER NOT NULL DEFAULT 0,
    reason TEXT
  ) STRICT;

  CREATE TABLE files (
    id TEXT PRIMARY KEY NOT NULL,
    sender TEXT NOT NULL,
    room TEXT,
    recipient TEXT,
    name TEXT,
    sha512 TEXT,
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    complete INTEGER NOT NULL DEFAULT 0
  ) STRICT;
  CREATE INDEX files_by_created ON files(created_at);

  CREATE TABLE file_chunks (
    file_id TEXT NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (file_id, idx)
  ) STRICT;

  CREATE TABLE file_handled (
    file_id TEXT NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    user TEXT NOT NULL,
    how TEXT NOT NULL CHECK (how IN ('accepted', 'declined', 'downloaded')),
    PRIMARY KEY (file_id, user)
  ) STRICT;
  `,
  // 2: per-device DM delivery cursors (each device catches up on its own), an index for "DMs sent
  // by a user" (catch-up of the sender's other devices, DM peers), and room departures (a user who
  // parted or was kicked is not silently re-added to the default room at login).
  `
  CREATE TABLE device_cursors (
    user TEXT NOT NULL,
    sign_key TEXT NOT NULL,
    msg_id INTEGER NOT NULL,
    PRIMARY KEY (user, sign_key),
    FOREIGN KEY (user, sign_key) REFERENCES devices(user, sign_key) ON DELETE CASCADE
  ) STRICT;
  -- Every existing device starts where its account's cursor was.
  INSERT INTO device_cursors (user, sign_key, msg_id)
    SELECT d.user, d.sign_key, c.msg_id FROM devices d JOIN delivery_cursors c ON c.user = d.user;
  DROP TABLE delivery_cursors;

  CREATE INDEX messages_dm_by_sender ON messages(sender, id) WHERE kind = 'dm';

  CREATE TABLE departures (
    room TEXT NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    muted_until INTEGER,
    PRIMARY KEY (room, user)
  ) STRICT;
  `,
  // 3: idempotency keys of sends: a sender's message with a key already used is not stored twice.
  // The key leads the index: keys that grow with time (as the SDK makes them) are then inserted at
  // its right edge instead of all over it.
  `
  ALTER TABLE messages ADD COLUMN client_key TEXT;
  CREATE UNIQUE INDEX messages_by_key ON messages(client_key, sender) WHERE client_key IS NOT NULL;
  `,
  // 4: prekeys of each device (public halves): the current signed prekey and the one-time prekeys
  // not yet handed out.
  `
  CREATE TABLE signed_prekeys (
    user TEXT NOT NULL,
    sign_key TEXT NOT NULL,
    id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    public_key TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (user, sign_key),
    FOREIGN KEY (user, sign_key) REFERENCES devices(user, sign_key) ON DELETE CASCADE
  ) STRICT;
  CREATE TABLE one_time_prekeys (
    user TEXT NOT NULL,
    sign_key TEXT NOT NULL,
    id INTEGER NOT NULL,
    public_key TEXT NOT NULL,
    PRIMARY KEY (user, sign_key, id),
    FOREIGN KEY (user, sign_key) REFERENCES devices(user, sign_key) ON DELETE CASCADE
  ) STRICT;
  `,
  // 5: a room's kind: 'e2e' (messages are sealed envelopes the server cannot read) or 'open'. Rooms
  // made before kinds existed were readable by the server: they stay open.
  `
  ALTER TABLE rooms ADD COLUMN kind TEXT NOT NULL DEFAULT 'open' CHECK (kind IN ('e2e', 'open'));
  `,
  // 6: bans, unbans, role changes and device removals given on the command line beside a running
  // hushd, waiting for it to enforce them.
  `
  CREATE TABLE admin_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    action TEXT NOT NULL CHECK (action IN ('ban', 'unban', 'role', 'devices')),
    user TEXT,
    address TEXT,
    reason TEXT
  ) STRICT;
  `,
  // 7: a password set on the command line is queued too, for a running hushd to log.
  `
  CREATE TABLE admin_requests_v7 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    action TEXT NOT NULL CHECK (action IN ('ban', 'unban', 'role', 'devices', 'password')),
    user TEXT,
    address TEXT,
    reason TEXT
  ) STRICT;
  INSERT INTO admin_requests_v7 SELECT id, action, user, address, reason FROM admin_requests;
  DROP TABLE admin_requests;
  ALTER TABLE admin_requests_v7 RENAME TO admin_requests;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
