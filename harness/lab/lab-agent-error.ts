/**
 * Infrastructure errors of the lab world: the device agent or the bench itself failed, not the product.
 *
 * Every code starts with `LAB_AGENT_` or `LAB_BENCH_`, so the report files them under "Infrastructure faults"
 * (reports/allure-categories.json) and the scenario is reported *broken*, never *failed* (docs/lab-setup.md).
 * Messages follow the project's shape: `[LAB_AGENT_BUSY] POST /v1/leases: the bench is held by ci-3. Wait…`.
 */
import { HarnessError, type ErrorData } from '../../core/index.js';

/**
 * Codes the harness raises itself about the agent and its transport. The agent may answer other
 * `LAB_AGENT_*` codes (`LAB_AGENT_BAD_REQUEST`, `LAB_AGENT_FAULT_UNSUPPORTED`, ...): they keep their code.
 */
export const LAB_AGENT_CODES = [
  /** Connection refused, DNS failure, connection reset: nothing answered at agent.url. */
  'LAB_AGENT_UNREACHABLE',
  /** 401: no token, or not the agent's token. */
  'LAB_AGENT_UNAUTHORIZED',
  /** 409: another holder has the bench's lease (holder and expiry in the fields). */
  'LAB_AGENT_BUSY',
  /** /v1/health's schemaHash differs from this harness's protocol: the two ends run different versions. */
  'LAB_AGENT_VERSION_MISMATCH',
  /** The request's deadline passed (the agent's 504, or no answer in time). */
  'LAB_AGENT_DEADLINE',
  /** The event stream stopped: no line, not even a heartbeat, for three heartbeat periods. */
  'LAB_AGENT_STALLED',
  /** The session is gone on the agent (restart, lease expiry, closed by another run). */
  'LAB_AGENT_NO_SESSION',
  /** A response or stream line does not match protocol v1's schema: an agent bug or a foreign server. */
  'LAB_AGENT_BAD_RESPONSE',
  /** The lease could not be renewed before it expired (or the agent forgot it): the bench may be someone else's now. */
  'LAB_AGENT_LEASE_LOST',
] as const;
export type LabAgentCode = (typeof LAB_AGENT_CODES)[number];

/** What the user can do about each code (when the agent did not say it better). */
export const LAB_AGENT_FIX: Readonly<Record<LabAgentCode, string>> = {
  LAB_AGENT_UNREACHABLE:
    'Check that `usbfn-hil agent serve` runs on the device and that agent.url of the lab config is reachable from this host (address, port, firewall, network cable)',
  LAB_AGENT_UNAUTHORIZED:
    "Set the environment variable named by agent.tokenEnv in the lab config to the agent's token (docs/lab-setup.md); never write the token into the config file",
  LAB_AGENT_BUSY: 'Wait for the holder to finish or its lease to expire, or raise lease.waitMs in the lab config',
  LAB_AGENT_VERSION_MISMATCH: 'Install the same usbfn-hil version on the device and on this host (the same commit, `npm ci` on both)',
  LAB_AGENT_DEADLINE: 'The device did not answer in time: check its load and network, or raise agent.deadlineMs in the lab config',
  LAB_AGENT_STALLED: 'The agent stopped sending heartbeats: the device may have hung, rebooted or lost its network; check it, then rerun',
  LAB_AGENT_NO_SESSION: 'The session ended on the device (agent restart, lease expiry or another run); rerun, and check the agent log on the device',
  LAB_AGENT_BAD_RESPONSE:
    'The agent answered outside protocol v1: install the same usbfn-hil version on both ends, and check that agent.url points at the agent and not another server',
  LAB_AGENT_LEASE_LOST: 'The lease expired or the agent restarted: check the network to the device and the agent log, then rerun',
};

/**
 * The device agent or its transport failed (`LAB_AGENT_*`).
 *
 * @example
 * throw new LabAgentError('LAB_AGENT_BUSY', { what: 'POST /v1/leases', why: 'the bench is held by ci-3 until 12:00:04' });
 */
export class LabAgentError extends HarnessError {
  override readonly name = 'LabAgentError';

  constructor(
    code: LabAgentCode | `LAB_AGENT_${string}`,
    args: { what: string; why: string; fix?: string | undefined; data?: ErrorData; cause?: unknown },
  ) {
    const fix = args.fix ?? (LAB_AGENT_FIX as Record<string, string | undefined>)[code];
    super(code, formatMessage(code, args.what, args.why, fix), { what: args.what, ...args.data }, args.cause === undefined ? undefined : { cause: args.cause });
  }
}

/** Codes of {@link LabBenchError}: the bench (cable, hub, host port, configuration) rather than the agent. */
export type LabBenchCode =
  /** The host negotiated another speed than the bench's configured one (a USB 2 hub or cable on a 3.0 port, ...). */
  | 'LAB_BENCH_SPEED_MISMATCH'
  /** The bench latched broken earlier in this run; the first cause is chained. */
  | 'LAB_BENCH_BROKEN'
  /** `usbfn-hil bench check` found the bench unusable. */
  | 'LAB_BENCH_CHECK_FAILED'
  /** Every bench of an inventory that fits was busy for the whole wait. */
  | 'LAB_BENCH_ALL_BUSY'
  /** No bench of the inventory could be reached or used. */
  | 'LAB_BENCH_NONE_USABLE';

/** The bench cannot run scenarios (`LAB_BENCH_*`): an infrastructure fault, reported broken. */
export class LabBenchError extends HarnessError {
  override readonly name = 'LabBenchError';

  constructor(code: LabBenchCode, args: { what: string; why: string; fix: string; data?: ErrorData; cause?: unknown }) {
    super(code, formatMessage(code, args.what, args.why, args.fix), { what: args.what, ...args.data }, args.cause === undefined ? undefined : { cause: args.cause });
  }
}

function formatMessage(code: string, what: string, why: string, fix: string | undefined): string {
  const sentence = (s: string): string => (/[.!?]$/.test(s) ? s : `${s}.`);
  return `[${code}] ${what}: ${sentence(why)}${fix === undefined || fix === '' ? '' : ` ${sentence(fix)}`}`;
}

/** Whether `err` is an infrastructure fault of the lab (agent, transport or bench), by its code. */
export function isLabInfrastructureError(err: unknown): err is HarnessError {
  return err instanceof HarnessError && /^LAB_(AGENT|BENCH)_/.test(err.code);
}
