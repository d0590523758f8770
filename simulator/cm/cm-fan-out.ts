/**
 * Handing one notification to a set of registrations: fire and forget, or wait until each delivery was
 * made (or lost), knowing the moment the last callback returned.
 */
import type { SimCmRegistration } from './cm-registration.js';

/** What one registration's callback answered (its effective result). */
export interface DeliveryResult {
  readonly registrationId: string;
  readonly result: number;
}

/** Queues one event to a snapshot of registrations (fire and forget). */
export function fanOut(regs: Iterable<SimCmRegistration>, action: number, target: string, data: Uint8Array): void {
  for (const r of [...regs]) r.enqueue(action, data, target);
}

/**
 * Queues one event to a snapshot of registrations and resolves once each delivery was made (or lost).
 * `whenAllReturned` runs synchronously as the last callback returns, before any microtask it started (with
 * no registration, at once).
 */
export function fanOutAndWait(
  regs: Iterable<SimCmRegistration>,
  action: number,
  target: string,
  data: Uint8Array,
  whenAllReturned?: () => void,
): Promise<DeliveryResult[]> {
  const snapshot = [...regs];
  if (snapshot.length === 0) {
    whenAllReturned?.();
    return Promise.resolve([]);
  }
  return new Promise((resolve) => {
    const results: DeliveryResult[] = [];
    let left = snapshot.length;
    for (const r of snapshot) {
      r.enqueue(action, data, target, (result) => {
        results.push({ registrationId: r.id, result });
        if (--left > 0) return;
        whenAllReturned?.();
        resolve(results);
      });
    }
  });
}
