/**
 * Waits until a condition holds, checking every `intervalMs` of the scenario clock, bounded by `timeoutMs`.
 * For facts that arrive asynchronously with no event to await (a CM notification landing in the device log,
 * a counter reaching a value): in sim the polling costs no wall time; in lab it is real time.
 */
import { delay, type Clock, TimeoutError } from '../core/index.js';

export async function eventually(
  clock: Clock,
  what: string,
  condition: () => boolean | Promise<boolean>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 1_000;
  const intervalMs = options.intervalMs ?? 1;
  const deadline = clock.now() + timeoutMs;
  while (!(await condition())) {
    if (clock.now() >= deadline) throw new TimeoutError(what, timeoutMs);
    await delay(clock, intervalMs);
  }
}
