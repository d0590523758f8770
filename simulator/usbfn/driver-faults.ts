/**
 * Driver-side faults (issue 3 item 6): prepended overrides on the GenericUSBFn model (docs/architecture.md#faults-as-overrides).
 * `failNext` makes the next matching IOCTL fail with a chosen error; `delayPipe` holds completions on a
 * pipe for a while on the simulation clock. The rig calls {@link DriverFaults.reset} after each test.
 */
import { UsageError } from '../../core/index.js';
import { IOCTL_TABLE, NTSTATUS, ntStatusToWin32 } from '../../device-side/index.js';

/** What {@link DriverFaults.failNext} takes. */
export interface FailNextOptions {
  /** IOCTL code, full name (`IOCTL_GENERICUSBFN_TRANSFER_OUT`) or short name (`TRANSFER_OUT`). */
  readonly ioctl: number | string;
  /** Win32 error the caller sees (e.g. 31 ERROR_GEN_FAILURE). Default when neither is given: ERROR_GEN_FAILURE. */
  readonly win32?: number | undefined;
  /** NTSTATUS the driver completes with (mapped like RtlNtStatusToDosError). Wins over `win32`. */
  readonly ntstatus?: number | undefined;
  /** How many matching IOCTLs fail (default 1). */
  readonly count?: number | undefined;
  /** Only IOCTLs on this USBFNPIPEID. */
  readonly pipe?: number | undefined;
}

/** The failure a matched rule imposes. */
export interface InjectedFailure {
  readonly status: number;
  readonly win32: number;
}

interface Rule {
  readonly code: number;
  readonly pipe: number | undefined;
  readonly failure: InjectedFailure;
  remaining: number;
}

const CODE_BY_NAME: ReadonlyMap<string, number> = new Map(
  IOCTL_TABLE.flatMap((i) => [
    [i.name, i.code] as const,
    [i.name.replace('IOCTL_GENERICUSBFN_', ''), i.code] as const,
  ]),
);

/** The status and Win32 error a {@link FailNextOptions} asks for. */
export function injectedFailure(options: Pick<FailNextOptions, 'win32' | 'ntstatus'>): InjectedFailure {
  const status = options.ntstatus ?? NTSTATUS.STATUS_UNSUCCESSFUL;
  const win32 = options.ntstatus !== undefined ? ntStatusToWin32(options.ntstatus) : (options.win32 ?? ntStatusToWin32(status));
  return { status, win32 };
}

/** Resolves an IOCTL code or name; throws UsageError for an unknown name. */
export function resolveIoctl(ioctl: number | string): number {
  if (typeof ioctl === 'number') return ioctl >>> 0;
  const code = CODE_BY_NAME.get(ioctl);
  if (code === undefined) {
    throw new UsageError(
      'INVALID_ARGUMENT',
      `unknown IOCTL name '${ioctl}'; use a genericusbfnioctl.h name such as IOCTL_GENERICUSBFN_TRANSFER_OUT or TRANSFER_OUT`,
    );
  }
  return code;
}

/** The fault overrides of one GenericUSBFn model. */
export class DriverFaults {
  #rules: Rule[] = [];
  #delays = new Map<number, number>();

  /** True when any rule or delay is set (lets the hot path skip matching). */
  get active(): boolean {
    return this.#rules.length > 0 || this.#delays.size > 0;
  }

  /**
   * The next `count` IOCTLs matching `ioctl` (and `pipe`) fail with the given error, immediately, without
   * reaching UFX.
   * @throws UsageError INVALID_ARGUMENT for an unknown IOCTL name or a bad count.
   * @example model.faults.failNext({ ioctl: 'TRANSFER_OUT', win32: 31 })
   */
  failNext(options: FailNextOptions): void {
    const count = options.count ?? 1;
    if (!Number.isInteger(count) || count < 1) {
      throw new UsageError('INVALID_ARGUMENT', `failNext count must be a positive integer, got ${count}`);
    }
    this.#rules.push({ code: resolveIoctl(options.ioctl), pipe: options.pipe, failure: injectedFailure(options), remaining: count });
  }

  /**
   * Every transfer/handshake completion on `pipeId` reaches the caller `ms` later on the simulation clock
   * (a slow driver or controller). `ms` 0 removes the delay.
   * @throws UsageError INVALID_ARGUMENT for a negative or non-finite delay.
   */
  delayPipe(pipeId: number, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new UsageError('INVALID_ARGUMENT', `delayPipe(${pipeId}, ${ms}): the delay must be a finite number of ms ≥ 0`);
    }
    if (ms === 0) this.#delays.delete(pipeId);
    else this.#delays.set(pipeId, ms);
  }

  /** Consumes and returns the failure for this IOCTL, if a rule matches. */
  take(code: number, pipe: number | undefined): InjectedFailure | undefined {
    for (let i = 0; i < this.#rules.length; i++) {
      const r = this.#rules[i]!;
      if (r.code !== code || (r.pipe !== undefined && r.pipe !== pipe)) continue;
      if (--r.remaining === 0) this.#rules.splice(i, 1);
      return r.failure;
    }
    return undefined;
  }

  /** Completion delay for `pipe` (0 when none). */
  delayMs(pipe: number): number {
    return this.#delays.get(pipe) ?? 0;
  }

  /** Removes every rule and delay. */
  reset(): void {
    this.#rules = [];
    this.#delays.clear();
  }
}
