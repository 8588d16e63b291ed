// What both child processes (the server under test and the load generator) serve for diagnosis:
// full collections between phases, event-loop and GC pauses, and CPU profiles.
import { PauseWatch } from './pauses.js';
import { profileStart, profileStop, summariseProfile } from './profile.js';

/** Full collections, a little apart (the children run with --expose-gc). */
export async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 50));
  }
}

const pauses = new PauseWatch();

export const diagnosticHandlers = {
  /** A phase starts without the last one's garbage. */
  collect: async (_: Record<string, never>) => {
    await collectGarbage();
    return true;
  },
  pausesStart: (_: Record<string, never>) => pauses.start(),
  pausesStop: (_: Record<string, never>) => pauses.stop(),
  profileStart: (_: Record<string, never>) => profileStart(),
  /** Stops profiling; returns the summary (and the raw profile for a .cpuprofile file). */
  profileStop: async (_: Record<string, never>) => {
    const profile = await profileStop();
    return { summary: summariseProfile(profile), profile };
  },
};
