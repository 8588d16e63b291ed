// @hush/cli-client: the `hush` terminal client. The modules below are exported for reuse and tests;
// the program itself is dist/cli.js.
export { startApp } from './app.js';
export { ChatController } from './controller.js';
export { parseInput, COMMANDS, findCommand, suggestCommand } from './commands.js';
export { TabCompleter, completionsFor } from './completion.js';
export { emojify, searchEmoji } from './emoji.js';
export { sanitize, stripControls, escapeTags } from './sanitize.js';
export { wrap } from './wrap.js';
export { displayWidth, truncate } from './width.js';
export { formatLine, formatLines, nickColor } from './format.js';
export { reduce, initialState } from './state.js';
export { resolveLogin, parseArgs } from './config.js';

export type { AppOptions, Connector, ConnectRequest, TrustRequest, RunningApp } from './app.js';
export type { UiHooks, ControllerOptions, Memory, Choice } from './controller.js';
export type { CommandDef, ParseResult } from './commands.js';
export type { EmojiEntry } from './emoji.js';
export type { AppState, Action, Conversation, Line } from './state.js';
export type { ChatClient, SessionClient } from './sdk.js';
export type { LoginDefaults, Remembered } from './config.js';
