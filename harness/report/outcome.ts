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

/** The outcome of a finished scenario from its vitest state and first error. */
export function scenarioOutcome(state: 'passed' | 'failed' | 'skipped' | 'pending', firstError: { code?: unknown } | undefined): ScenarioOutcome {
  if (state === 'passed') return 'passed';
  if (state === 'failed') return isInfrastructureCode(firstError?.code) ? 'broken' : 'failed';
  return 'skipped';
}
