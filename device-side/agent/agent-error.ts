/**
 * The agent's own errors and the error envelope every non-2xx answer carries (docs/agent-protocol.md).
 *
 * An {@link AgentError} has a code of {@link AGENT_ERROR_STATUS} (its HTTP status) and a `fix` sentence. Any
 * other error reaching the wire keeps its own class and code (a `Win32Error` from the device, a
 * `TimeoutError` of a server-side wait): the envelope's `harnessError` is its `toJSON()`, so the harness
 * rebuilds the same class with `errorFromJSON` and reports it exactly as in the simulator.
 */
import { errorFromJSON, HarnessError, type ErrorData, type HarnessErrorJSON } from '../../core/index.js';
import { AGENT_ERROR_STATUS, type AgentErrorCode, type ErrorEnvelope } from './protocol/index.js';

/** An error of the agent itself (infrastructure `LAB_AGENT_*`, or the worker's `SERVICE_CRASHED`/`SERVICE_HUNG`). */
export class AgentError extends HarnessError {
  override readonly name = 'AgentError';
  override readonly code: AgentErrorCode;
  /** What the caller can do about it (one sentence). */
  readonly fix: string;

  /**
   * @param what what failed and why, without the code prefix (e.g. `lease L1 is not held: it expired`)
   * @param fix what to do about it
   */
  constructor(code: AgentErrorCode, what: string, fix: string, data: ErrorData = {}, options?: { cause?: unknown }) {
    super(code, `[${code}] ${what}. ${fix}`, { ...data, fix }, options);
    this.code = code;
    this.fix = fix;
  }

  /** The HTTP status this error is answered with. */
  get status(): number {
    return AGENT_ERROR_STATUS[this.code];
  }
}

/** The wire form of a harness error (its `toJSON()` as plain JSON: no undefined fields). */
export type WireErrorJson = NonNullable<ErrorEnvelope['error']['harnessError']>;

/** `err.toJSON()` as it crosses the wire. */
export function wireError(err: HarnessError): WireErrorJson {
  return JSON.parse(JSON.stringify(err.toJSON())) as WireErrorJson;
}

/** Fix sentence of errors that are not the agent's own (device-side failures, bugs). */
const DEVICE_FIX = 'The device-side call failed: the error is the device\'s own (see harnessError and the session\'s event log).';

/** The status and envelope an error is answered with. */
export function errorEnvelope(err: unknown): { status: number; body: ErrorEnvelope } {
  if (err instanceof AgentError) {
    return { status: err.status, body: { error: { code: err.code, message: err.message, fix: err.fix, harnessError: wireError(err) } } };
  }
  if (err instanceof HarnessError) {
    const status = (AGENT_ERROR_STATUS as Record<string, number>)[err.code] ?? 500;
    const fix =
      err.code === 'TIMEOUT'
        ? 'The device did not reach the state in time: check the event log, or wait longer (timeoutMs).'
        : err.code === 'SERVICE_STATE'
          ? 'Query the session status and send the command the state allows.'
          : DEVICE_FIX;
    return { status, body: { error: { code: err.code, message: err.message, fix, harnessError: wireError(err) } } };
  }
  const internal = new AgentError(
    'LAB_AGENT_INTERNAL',
    `the agent failed unexpectedly: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
    'This is an agent bug: report it with the agent log; restart the agent if it keeps failing.',
    {},
    { cause: err },
  );
  return errorEnvelope(internal);
}

/**
 * Rebuilds an error that crossed the worker's IPC channel: an {@link AgentError} as itself (with its fix),
 * anything else through `errorFromJSON` (same class, code, fields and cause chain).
 */
export function agentErrorFromJSON(json: HarnessErrorJSON): HarnessError {
  if (json.name === 'AgentError' && Object.hasOwn(AGENT_ERROR_STATUS, json.code)) {
    const fix = typeof json.data['fix'] === 'string' ? json.data['fix'] : '';
    const cause = json.cause === undefined ? undefined : 'code' in json.cause ? errorFromJSON(json.cause) : Object.assign(new Error(json.cause.message), { name: json.cause.name });
    const err = new AgentError(json.code as AgentErrorCode, '', fix, json.data, cause === undefined ? undefined : { cause });
    Object.defineProperty(err, 'message', { value: json.message });
    return err;
  }
  const err = errorFromJSON(json);
  // A class errorFromJSON does not know (ServiceStateError, ...) keeps its name on the wire.
  if (err.name !== json.name) Object.defineProperty(err, 'name', { value: json.name, enumerable: true, configurable: true, writable: false });
  return err;
}
