/**
 * A tiny sequential test runner for the Wine tier. vitest does not run under Windows node in Wine, so the
 * entry registers checks with {@link check} and {@link runChecks} runs them one by one, each bounded by a
 * timeout, printing `ok`/`not ok` lines and a final `N passed, M failed` line.
 */
import { RealClock, withTimeout } from '../../core/index.js';

interface Check {
  readonly name: string;
  readonly fn: () => Promise<void> | void;
  readonly timeoutMs: number;
}

const checks: Check[] = [];

/** Registers one check. */
export function check(name: string, fn: () => Promise<void> | void, timeoutMs = 20_000): void {
  checks.push({ name, fn, timeoutMs });
}

/** Fails the running check with `message` unless `cond` holds. */
export function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

/** Fails unless `actual === expected`. */
export function assertEqual<T>(actual: T, expected: T, what: string): void {
  if (actual !== expected) throw new Error(`assertion failed: ${what}: expected ${String(expected)}, got ${String(actual)}`);
}

/** Resolves with what `promise` rejects with; fails if it resolves. */
export async function rejectionOf(promise: Promise<unknown>, what: string): Promise<unknown> {
  try {
    const v = await promise;
    throw new Error(`assertion failed: ${what} resolved (${String(v)}) but was expected to reject`);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith(`assertion failed: ${what} resolved`)) throw err;
    return err;
  }
}

/** Extra lines (facts observed under Wine) printed after a check's `ok` line. */
export const notes: string[] = [];

/** Runs every registered check in order; prints the report; resolves with the number of failures. */
export async function runChecks(print: (line: string) => void): Promise<number> {
  const clock = new RealClock();
  let passed = 0;
  let failed = 0;
  for (const c of checks) {
    const started = performance.now();
    notes.length = 0;
    try {
      await withTimeout(clock, Promise.resolve().then(c.fn), c.name, c.timeoutMs);
      passed++;
      print(`ok ${passed + failed} - ${c.name} (${Math.round(performance.now() - started)} ms)`);
    } catch (err) {
      failed++;
      print(`not ok ${passed + failed} - ${c.name}`);
      print(`  # ${describe(err).split('\n').join('\n  # ')}`);
    }
    for (const n of notes) print(`  # note: ${n}`);
  }
  print(`${passed} passed, ${failed} failed`);
  return failed;
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `\ncaused by: ${err.cause.message}` : '';
    return `${err.stack ?? err.message}${cause}`;
  }
  return String(err);
}
