/**
 * The shared ManualClock (core/manual-clock.ts) for the lab tests of deadlines, back-off, lease renewal and stall detection
 * around real (msw-intercepted) HTTP exchanges: those take a few event-loop turns, so {@link ManualClock}
 * here lets 8 run around each timer it fires, and {@link settle} waits as many.
 */
import { ManualClock as CoreManualClock, settleEventLoop as settleTurns } from '../../../core/index.js';

/** Event-loop turns an intercepted HTTP exchange needs to move on. */
const HTTP_TURNS = 8;

/** A ManualClock that lets intercepted HTTP exchanges run between its timers. */
export class ManualClock extends CoreManualClock {
  constructor() {
    super({ settleTurns: HTTP_TURNS });
  }
}

/** Lets pending promise chains and intercepted I/O run (a few event-loop turns). */
export function settle(turns = HTTP_TURNS): Promise<void> {
  return settleTurns(turns);
}

/**
 * Resolves once `predicate` holds, letting the event loop turn in between; rejects after `turns` turns
 * (a test's bounded wait for an intercepted request to arrive, not a timing assumption).
 */
export async function until(predicate: () => boolean, what = 'the condition', turns = 500): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (predicate()) return;
    await settleTurns(1);
  }
  throw new Error(`until: ${what} did not hold within ${turns} event-loop turns`);
}
