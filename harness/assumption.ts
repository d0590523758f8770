/**
 * Marks checks of behaviour the simulator infers rather than documents (reference §6.2). A failure inside
 * `assumption(...)` is reported under the Allure category "Simulator assumptions": verify it on real
 * hardware before calling it a product defect.
 *
 * @example
 * await assumption('§6.2', 'pending TRANSFER_OUT ends with ERROR_OPERATION_ABORTED on reset', async () => {
 *   expect(entry.error).toMatchObject({ data: { win32Name: 'ERROR_OPERATION_ABORTED' } });
 * });
 */
import { HarnessError } from '../core/index.js';

export class AssumptionFailedError extends HarnessError {
  override readonly name = 'AssumptionFailedError';
  constructor(section: string, statement: string, cause: unknown) {
    super(
      'ASSUMPTION',
      `[ASSUMPTION reference ${section}] ${statement}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { section, statement },
      // A plain copy: vitest cannot serialize its own AssertionError (with actual/expected) as a nested cause.
      { cause: cause instanceof Error ? Object.assign(new Error(cause.message), { name: cause.name, stack: cause.stack }) : cause },
    );
  }
}

/** Runs `check`; if it fails, rethrows as an {@link AssumptionFailedError} naming the assumption. */
export async function assumption(section: string, statement: string, check: () => void | Promise<void>): Promise<void> {
  try {
    await check();
  } catch (err) {
    throw new AssumptionFailedError(section, statement, err);
  }
}
