import { MAX_TEXT_LENGTH } from '@hush/protocol';

/** What the server enforces per connection (its welcome says so); the SDK paces itself inside it. */
export interface ClientLimits {
  messagesPerSecond: number;
  messageBurst: number;
  /** Typing notices and read markers: a budget of their own. */
  signalsPerSecond: number;
  signalBurst: number;
  maxTextLength: number;
}

/** Until a welcome says otherwise: the server's defaults. */
export const DEFAULT_CLIENT_LIMITS: Readonly<ClientLimits> = Object.freeze({
  messagesPerSecond: 10,
  messageBurst: 40,
  signalsPerSecond: 5,
  signalBurst: 10,
  maxTextLength: MAX_TEXT_LENGTH,
});

/** The welcome's limits when present and sane, else the defaults (an older server sends none). */
export function limitsFrom(welcome: { limits?: Partial<ClientLimits> | undefined }): ClientLimits {
  const given = welcome.limits ?? {};
  const pick = (key: keyof ClientLimits): number => {
    const v = given[key];
    return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : DEFAULT_CLIENT_LIMITS[key];
  };
  return {
    messagesPerSecond: pick('messagesPerSecond'),
    messageBurst: pick('messageBurst'),
    signalsPerSecond: pick('signalsPerSecond'),
    signalBurst: pick('signalBurst'),
    maxTextLength: pick('maxTextLength'),
  };
}
