// The slice of @hush/client that the terminal client uses, taken from HushClient's own type so it
// cannot drift from the SDK. The app talks only to these, so its logic runs against a fake in tests.
import type { ClientEvents, HushClient, RoomRole } from '@hush/client';

export type {
  ChatMessage,
  ConnectionState,
  FileOffer,
  MemberInfo,
  PendingSend,
  PresenceState,
  Reaction,
  RoomInfo,
  SearchResult,
  Target,
  UserInfo,
} from '@hush/client';
/** A conversation's key: "#room" or "@user" (the SDK's, so the TUI and the SDK name conversations alike). */
export { conversationKey } from '@hush/client';
/** Sizes in words (the SDK's, so its errors and the TUI say sizes alike). */
export { byteCount, formatSize } from '@hush/client';
export type Role = RoomRole;
export type ClientEventMap = ClientEvents;
/** What a recipient did with a file we sent ('downloaded': saved and hash-checked). */
export type FileStatusReport = ClientEvents['fileStatus'][0]['status'];

/** Subscribing to the SDK's events (HushClient's on/off return the client itself; nothing here uses that). */
export interface ClientEventSource {
  on<K extends keyof ClientEvents & string>(event: K, listener: (...args: ClientEvents[K]) => void): unknown;
  off<K extends keyof ClientEvents & string>(event: K, listener: (...args: ClientEvents[K]) => void): unknown;
}

/** Everything the chat screen calls. */
export type ChatClient = ClientEventSource &
  Pick<
    HushClient,
    | 'user'
    | 'state'
    | 'fingerprint'
    | 'rooms'
    | 'limits'
    | 'createRoom'
    | 'joinRoom'
    | 'partRoom'
    | 'listRooms'
    | 'setTopic'
    | 'members'
    | 'listUsers'
    | 'send'
    | 'action'
    | 'sendDirect'
    | 'reply'
    | 'edit'
    | 'delete'
    | 'react'
    | 'reactions'
    | 'search'
    | 'setPresence'
    | 'setTyping'
    | 'markRead'
    | 'history'
    | 'listDevices'
    | 'removeDevice'
    | 'changePassword'
    | 'deviceId'
    | 'kick'
    | 'ban'
    | 'unban'
    | 'mute'
    | 'unmute'
    | 'setRole'
    | 'safetyNumber'
    | 'verifyContact'
    | 'isVerified'
    | 'sendFile'
    | 'acceptFile'
    | 'declineFile'
    | 'cancelFile'
    | 'pendingFiles'
    | 'seenInLastRun'
    | 'lastRead'
    | 'pendingSends'
    | 'close'
  >;

/** The chat client plus the session start the login form needs. */
export type SessionClient = ChatClient & Pick<HushClient, 'shortFingerprint' | 'register' | 'login' | 'hasDeviceFor'>;

/** The words of the protocol's and the SDK's error codes, for errors that bring no message of their own. */
const CODE_WORDS: Readonly<Record<string, string>> = {
  AUTH_FAILED: 'wrong username or password',
  RATE_LIMITED: 'the server is limiting how fast you send',
  FORBIDDEN: 'not allowed',
  NOT_FOUND: 'not found',
  CONNECTION_CLOSED: 'the connection is closed',
  TIMEOUT: 'the server did not answer in time',
};

/** Error text and code from anything thrown by the SDK. */
export function describeError(err: unknown): { code?: string; message: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : undefined, message: err.message };
  }
  return { message: String(err) };
}

/** One line for a person: the message in words, the code once in brackets (never "CODE: CODE"). */
export function errorText(err: unknown): string {
  const { code, message } = describeError(err);
  if (!code) return message;
  const words = message === '' || message === code ? (CODE_WORDS[code] ?? code.toLowerCase().replace(/_/g, ' ')) : message;
  return `${words}${code === 'MUTED' ? muteLeft(err) : ''} [${code}]`;
}

const YEAR_MS = 365 * 24 * 3600 * 1000;

/** How long a mute lasts yet, from the refusal's `retryAfterMs` (the server's time left). */
function muteLeft(err: unknown): string {
  const left = (err as { retryAfterMs?: unknown }).retryAfterMs;
  if (typeof left !== 'number') return '';
  if (left >= YEAR_MS) return ' until an operator unmutes you';
  const s = Math.max(1, Math.ceil(left / 1000));
  const span =
    s < 120 ? `${s} s` : s < 7200 ? `${Math.ceil(s / 60)} min` : s < 172_800 ? `${Math.ceil(s / 3600)} h` : `${Math.ceil(s / 86_400)} days`;
  return ` for another ${span}`;
}
