/**
 * Marks checks of behaviour the simulator infers rather than documents: each has a row with a stable id in
 * docs/reference/documented-vs-inferred.md (e.g. `drv-no-data-handshake`). A failure inside
 * `assumption(id, ...)` is reported as `[ASSUMPTION <id>] ...`, under the Allure category "Simulator
 * assumptions": verify it on real hardware before calling it a product defect.
 *
 * @example
 * await assumption('drv-purge-cancelled', 'pending TRANSFER_OUT ends with ERROR_OPERATION_ABORTED on reset', async () => {
 *   expect(entry.error).toMatchObject({ data: { win32Name: 'ERROR_OPERATION_ABORTED' } });
 * });
 */
import { HarnessError, UsageError } from '../core/index.js';

/** Where the rows of the assumption ids are. */
export const ASSUMPTIONS_DOC = 'docs/reference/documented-vs-inferred.md';

/** The shape of a row id: a lower-case area prefix and words joined by hyphens (`drv-…`, `cm-…`, `link-…`). */
const ID_SHAPE = /^[a-z][a-z0-9]*(-[a-z0-9]+)+$/;

export class AssumptionFailedError extends HarnessError {
  override readonly name = 'AssumptionFailedError';
  constructor(id: string, statement: string, cause: unknown) {
    super(
      'ASSUMPTION',
      `[ASSUMPTION ${id}] ${statement}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { id, statement, see: `${ASSUMPTIONS_DOC}#${id}` },
      // A plain copy: vitest cannot serialize its own AssertionError (with actual/expected) as a nested cause.
      { cause: cause instanceof Error ? Object.assign(new Error(cause.message), { name: cause.name, stack: cause.stack }) : cause },
    );
  }
}

/**
 * Runs `check`; if it fails, rethrows as an {@link AssumptionFailedError} naming the assumption by its id.
 * @throws UsageError INVALID_ARGUMENT when `id` is not shaped like a row id of docs/reference/documented-vs-inferred.md.
 */
export async function assumption(id: string, statement: string, check: () => void | Promise<void>): Promise<void> {
  if (!ID_SHAPE.test(id)) {
    throw new UsageError('INVALID_ARGUMENT', `assumption id '${id}' is not a row id of ${ASSUMPTIONS_DOC}: use its anchor, e.g. 'drv-purge-cancelled'`, { id });
  }
  try {
    await check();
  } catch (err) {
    throw new AssumptionFailedError(id, statement, err);
  }
}
