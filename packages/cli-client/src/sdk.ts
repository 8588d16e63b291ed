// The slice of @hush/client that the terminal client uses. The app talks only to this
// interface, so its logic runs against a fake in tests; a real HushClient satisfies it.

import type {
  ChatMessage, ClientEvents, ConnectionState, FileOffer, MemberInfo, PresenceState, RoomInfo, RoomRole, Target, UserInfo,
} from '@hush/client';

// The data types are the SDK's own; only the slice of methods the app calls is restated here.
export type { ChatMessage, ConnectionState, FileOffer, MemberInfo, PresenceState, RoomInfo, Target, UserInfo };
export type Role = RoomRole;
export type ClientEventMap = ClientEvents;
/** What a recipient did with a file we sent ('downloaded': saved and hash-checked). */
export type FileStatusReport = ClientEvents['fileStatus'][0]['status'];

export interface ChatClient {
  on<K extends keyof ClientEventMap>(event: K, listener: (...args: ClientEventMap[K]) => void): unknown;
  off<K extends keyof ClientEventMap>(event: K, listener: (...args: ClientEventMap[K]) => void): unknown;
  readonly user: string | null;
  readonly state: ConnectionState;
  readonly fingerprint: string;
  readonly rooms: ReadonlyMap<string, RoomInfo>;
  createRoom(room: string, topic?: string): Promise<void>;
  joinRoom(room: string): Promise<void>;
  partRoom(room: string): Promise<void>;
  listRooms(): Promise<RoomInfo[]>;
  setTopic(room: string, topic: string): Promise<void>;
  members(room: string): Promise<MemberInfo[]>;
  listUsers(): Promise<UserInfo[]>;
  send(room: string, text: string): Promise<{ id: string; ts: number }>;
  action(room: string, text: string): Promise<{ id: string; ts: number }>;
  sendDirect(user: string, text: string, opts?: { action?: boolean }): Promise<{ id: string; ts: number }>;
  setPresence(state: 'online' | 'away', status?: string): Promise<void>;
  setTyping(target: Target, active: boolean): void;
  markRead(target: Target, msgId: string): Promise<void>;
  history(target: Target, opts?: { before?: string; limit?: number }): Promise<{ messages: ChatMessage[]; hasMore: boolean }>;
  kick(room: string, user: string, reason?: string): Promise<void>;
  ban(opts: { user?: string; address?: string; reason?: string; seconds?: number }): Promise<void>;
  unban(opts: { user?: string; address?: string }): Promise<void>;
  mute(room: string, user: string, seconds?: number): Promise<void>;
  unmute(room: string, user: string): Promise<void>;
  setRole(room: string, user: string, role: Role): Promise<void>;
  safetyNumber(user: string): Promise<string>;
  verifyContact(user: string): Promise<void>;
  isVerified(user: string): boolean;
  sendFile(target: Target, path: string): Promise<{ fileId: string }>;
  acceptFile(fileId: string, directory?: string): Promise<string>;
  declineFile(fileId: string): Promise<void>;
  cancelFile(fileId: string): Promise<void>;
  pendingFiles(): FileOffer[];
  close(): Promise<void>;
}

/** Error text and code from anything thrown by the SDK. */
export function describeError(err: unknown): { code?: string; message: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : undefined, message: err.message };
  }
  return { message: String(err) };
}
