/**
 * What a scenario's outcome means: `failed` when the product did something wrong (a wrong USB answer, a
 * Win32 or libusb error from the device or host code, an assertion), `broken` when the bench or the harness
 * could not run it (infrastructure: the agent, the lab configuration, a mode that cannot provide the world).
 */

/** Error codes that mean "infrastructure", never the product. */
const INFRASTRUCTURE = /^(LAB_[A-Z_]+|BENCH_[A-Z_]+|INVALID_CONFIG|MODE_NOT_SUPPORTED|WIN32_UNAVAILABLE|LIBUSB_UNAVAILABLE)$/;

export function isInfrastructureCode(code: unknown): boolean {
  return typeof code === 'string' && INFRASTRUCTURE.test(code);
}

export type ScenarioOutcome = 'passed' | 'failed' | 'broken' | 'skipped';

/** An error as a reporter sees it (vitest serializes errors to plain objects across workers). */
export interface ReportedError {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly stack?: unknown;
  readonly expected?: unknown;
  readonly actual?: unknown;
}

/** An expectation that did not hold (vitest/chai assertions). */
export function isAssertion(err: ReportedError): boolean {
  return /assert/i.test(String(err.name ?? '')) || 'expected' in err || 'actual' in err || /@vitest\/expect/.test(String(err.stack ?? ''));
}

/**
 * How a failure is filed: an assertion or a typed product error (a stable code that is not
 * infrastructure: WIN32, LIBUSB, TIMEOUT, SERVICE_CRASHED, …) is `failed`; an infrastructure code, or an
 * untyped exception (a harness or scenario bug), is `broken`.
 */
export function failureOutcome(err: ReportedError | undefined): 'failed' | 'broken' {
  if (err === undefined) return 'broken';
  if (isInfrastructureCode(err.code)) return 'broken';
  if (typeof err.code === 'string' || isAssertion(err)) return 'failed';
  return 'broken';
}

/** The outcome of a finished scenario from its vitest state and first error. */
export function scenarioOutcome(state: 'passed' | 'failed' | 'skipped' | 'pending', firstError: ReportedError | undefined): ScenarioOutcome {
  if (state === 'passed') return 'passed';
  if (state === 'failed') return failureOutcome(firstError);
  return 'skipped';
}
