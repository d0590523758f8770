/**
 * The device half of the test protocol (test-protocol.ts): state the built-in test functions share and the
 * answers to the introspection requests. Each test function owns one {@link TestFunctionState}.
 */
import { isCancelled, Win32Error, type SetupPacket, ECHO_MAX_BYTES, encodeTestCounters, fillPattern, STALL_MODE, TEST_REQUEST, ZLP_POLICY, type TestCounters } from '../../core/index.js';
import type { FunctionContext, SetupReply } from '../service/index.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const ZERO_COUNTERS: TestCounters = {
  controlRequests: 0,
  stalledRequests: 0,
  bulkOutTransfers: 0,
  bulkInTransfers: 0,
  bulkOutBytes: 0n,
  bulkInBytes: 0n,
  patternErrors: 0,
  cancelledTransfers: 0,
  failedTransfers: 0,
  lastWin32Error: 0,
};

/** Mutable state behind the test protocol. */
export class TestFunctionState {
  counters: Mutable<TestCounters> = { ...ZERO_COUNTERS };
  lastError: { win32: number; ioctlFunction: number; name: string } | undefined;
  lastSetup: SetupPacket | undefined;
  echo: Uint8Array = new Uint8Array(0);
  /** bRequest → STALL_MODE value. */
  stallRules = new Map<number, number>();
  zlpPolicy: number;
  /** Length of the next IN transfer the source queues (undefined = its default). */
  nextInLength: number | undefined;
  /**
   * Answer the function gives to CM_NOTIFY_ACTION_DEVICEQUERYREMOVE: true vetoes (ERROR_CANCELLED) so the
   * device stays. Set by the host of the function (a scenario through `sim.functionState`); not reset by
   * RESET_STATE, since it is not part of the USB test protocol.
   */
  vetoQueryRemove: boolean;
  readonly patternSeed: number;
  readonly #defaultZlpPolicy: number;

  constructor(options: { zlpPolicy: number; patternSeed: number; vetoQueryRemove?: boolean | undefined }) {
    this.zlpPolicy = options.zlpPolicy;
    this.vetoQueryRemove = options.vetoQueryRemove ?? false;
    this.#defaultZlpPolicy = options.zlpPolicy;
    this.patternSeed = options.patternSeed;
  }

  reset(): void {
    this.counters = { ...ZERO_COUNTERS };
    this.lastError = undefined;
    this.echo = new Uint8Array(0);
    this.stallRules.clear();
    this.zlpPolicy = this.#defaultZlpPolicy;
    this.nextInLength = undefined;
  }

  /** Counts a transfer failure: cancellations apart, the last Win32 error is kept for GET_LAST_ERROR. */
  recordTransferFailure(err: unknown, ctx: FunctionContext | undefined, where: string): void {
    if (isCancelled(err)) {
      this.counters.cancelledTransfers++;
      return;
    }
    this.counters.failedTransfers++;
    if (err instanceof Win32Error) {
      this.counters.lastWin32Error = err.win32;
      this.lastError = { win32: err.win32, ioctlFunction: ioctlFunctionOf(err.ioctl), name: err.win32Name };
    }
    ctx?.fail(err instanceof Error ? err : new Error(String(err)), where);
  }
}

function ioctlFunctionOf(ioctl: string | undefined): number {
  // The wire carries the IOCTL's function number; names map to 0x03..0x10 (genericusbfnioctl.h).
  const order = [
    'IOCTL_GENERICUSBFN_TRANSFER_IN',
    'IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT',
    'IOCTL_GENERICUSBFN_TRANSFER_OUT',
    'IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN',
    'IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT',
    'IOCTL_GENERICUSBFN_GET_CLASS_INFO',
    'IOCTL_GENERICUSBFN_GET_PIPE_STATE',
    'IOCTL_GENERICUSBFN_SET_PIPE_STATE',
    'IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS',
    'IOCTL_GENERICUSBFN_DEACTIVATE_USB_BUS',
    'IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION',
    'IOCTL_GENERICUSBFN_GET_CLASS_INFO_EX',
    'IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET',
    'IOCTL_GENERICUSBFN_REGISTER_USB_STRING',
  ];
  const i = ioctl === undefined ? -1 : order.indexOf(ioctl);
  return i < 0 ? 0 : i + 3;
}

const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
};

/**
 * Answers a class setup packet of the test protocol. `ctx` is the current configuration (undefined while
 * unconfigured: requests that need pipes then stall). Unknown requests stall.
 */
/**
 * A stall, counted. A module function rather than a closure per request: under tsx/esbuild's keepNames every
 * named closure costs an Object.defineProperty when it is created (with the one in bus-session.ts, ~8 % of a
 * simulated control transfer).
 */
function stallReply(state: TestFunctionState): SetupReply {
  state.counters.stalledRequests++;
  return { stage: 'stall' };
}

export function answerTestRequest(
  state: TestFunctionState,
  setup: SetupPacket,
  ctx: FunctionContext | undefined,
): SetupReply | Promise<SetupReply> {
  const previous = state.lastSetup;
  state.lastSetup = setup;
  state.counters.controlRequests++;
  const rule = state.stallRules.get(setup.bRequest);
  if (rule === STALL_MODE.ALWAYS || rule === STALL_MODE.ONCE) {
    if (rule === STALL_MODE.ONCE) state.stallRules.delete(setup.bRequest);
    state.counters.stalledRequests++;
    return { stage: 'stall' };
  }
  const isIn = (setup.bmRequestType & 0x80) !== 0;
  switch (setup.bRequest) {
    case TEST_REQUEST.GET_COUNTERS:
      return isIn ? { stage: 'in', data: encodeTestCounters(state.counters) } : stallReply(state);
    case TEST_REQUEST.GET_LAST_ERROR: {
      if (!isIn) return stallReply(state);
      const e = state.lastError;
      const name = new TextEncoder().encode(e?.name ?? '');
      const out = new Uint8Array(8 + name.byteLength);
      out.set(u32(e?.win32 ?? 0), 0);
      out.set(u32(e?.ioctlFunction ?? 0), 4);
      out.set(name, 8);
      return { stage: 'in', data: out };
    }
    case TEST_REQUEST.SET_NEXT_IN_LENGTH:
      if (isIn || setup.wLength !== 4) return stallReply(state);
      return {
        stage: 'out',
        onData: (d) => {
          if (d.byteLength !== 4) return 'stall';
          const n = new DataView(d.buffer, d.byteOffset, 4).getUint32(0, true);
          state.nextInLength = n === 0xffffffff ? undefined : n;
        },
      };
    case TEST_REQUEST.ECHO_LAST_SETUP: {
      if (!isIn) return stallReply(state);
      const b = new Uint8Array(8);
      if (previous !== undefined) {
        const v = new DataView(b.buffer);
        b[0] = previous.bmRequestType;
        b[1] = previous.bRequest;
        v.setUint16(2, previous.wValue, true);
        v.setUint16(4, previous.wIndex, true);
        v.setUint16(6, previous.wLength, true);
      }
      return { stage: 'in', data: b };
    }
    case TEST_REQUEST.RESET_STATE:
      if (setup.wLength !== 0) return stallReply(state);
      state.reset();
      state.lastSetup = setup;
      return { stage: 'none' };
    case TEST_REQUEST.SET_STALL_POLICY:
      if (isIn || setup.wLength !== 4) return stallReply(state);
      return {
        stage: 'out',
        onData: (d) => {
          const mode = d[1] ?? 0xff;
          if (d.byteLength !== 4 || mode > STALL_MODE.ALWAYS) return 'stall';
          if (mode === STALL_MODE.NEVER) state.stallRules.delete(d[0]!);
          else state.stallRules.set(d[0]!, mode);
        },
      };
    case TEST_REQUEST.ECHO_WRITE:
      if (isIn || setup.wLength > ECHO_MAX_BYTES) return stallReply(state);
      if (setup.wLength === 0) {
        state.echo = new Uint8Array(0);
        return { stage: 'none' };
      }
      return {
        stage: 'out',
        onData: (d) => {
          state.echo = d.slice();
        },
      };
    case TEST_REQUEST.ECHO_READ:
      return isIn ? { stage: 'in', data: state.echo } : stallReply(state);
    case TEST_REQUEST.SET_ZLP_POLICY:
      if (setup.wLength !== 0 || (setup.wValue !== ZLP_POLICY.NEVER && setup.wValue !== ZLP_POLICY.APPEND_ON_MULTIPLE)) {
        return stallReply(state);
      }
      state.zlpPolicy = setup.wValue;
      return { stage: 'none' };
    case TEST_REQUEST.READ_PATTERN: {
      if (!isIn) return stallReply(state);
      const data = new Uint8Array(setup.wLength);
      fillPattern(data, state.patternSeed, setup.wValue);
      return { stage: 'in', data };
    }
    case TEST_REQUEST.SET_ENDPOINT_HALT: {
      if (setup.wLength !== 0 || ctx === undefined) return stallReply(state);
      const pipe = ctx.pipeByAddress(setup.wIndex >> 8);
      if (pipe === undefined) return stallReply(state);
      // Acknowledged only after SET_PIPE_STATE completed, so the host sees the new state once the request ends.
      return ctx.setStall(pipe.name, setup.wValue !== 0).then(
        (): SetupReply => ({ stage: 'none' }),
        (err: unknown) => {
          state.recordTransferFailure(err, ctx, 'SET_ENDPOINT_HALT');
          return stallReply(state);
        },
      );
    }
    default:
      return stallReply(state);
  }
}
