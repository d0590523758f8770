/**
 * The loopback test function: every bulk OUT transfer is echoed on bulk IN, any length including 0 and
 * exact multiples of wMaxPacketSize (HLK "Windows USB Device" loopback; Linux usbtest bulk cases).
 *
 * Zero-length-packet policy ({@link ZLP_POLICY}): with APPEND_ON_MULTIPLE (default) the echo uses
 * TRANSFER_IN_APPEND_ZERO_PKT, so a host that asks for more than an exact multiple still sees the transfer
 * end; with NEVER it uses TRANSFER_IN and the host must ask for the exact length. The host agent ends each
 * OUT transfer with a ZLP when its length is a multiple (or zero), so the device's OUT buffer completes.
 *
 * The echo reuses the OUT buffer (no copy); IN transfers go out in the order the OUT transfers arrived.
 */
import type { FunctionContext, UsbFunction } from '../service/index.js';
import { answerTestRequest, TestFunctionState } from './test-requests.js';
import { ZLP_POLICY } from '../../core/index.js';

export interface LoopbackOptions {
  /** TRANSFER_OUT requests kept queued. Default 4. */
  readonly depth?: number | undefined;
  /** Size of each OUT buffer: the largest transfer echoed. Default 1 MiB + 512 (holds a 1 MiB transfer and its ZLP). */
  readonly bufferBytes?: number | undefined;
  /** Initial ZLP policy (SET_ZLP_POLICY changes it). Default APPEND_ON_MULTIPLE. */
  readonly zlpPolicy?: number | undefined;
  /** Seed of READ_PATTERN. Default 0x5EED. */
  readonly patternSeed?: number | undefined;
  /** Veto CM_NOTIFY_ACTION_DEVICEQUERYREMOVE (keep the device). Default false; `state.vetoQueryRemove` changes it. */
  readonly vetoQueryRemove?: boolean | undefined;
}

export interface LoopbackFunction extends UsbFunction {
  readonly state: TestFunctionState;
}

export const DEFAULT_PATTERN_SEED = 0x5eed;

export function createLoopbackFunction(options: LoopbackOptions = {}): LoopbackFunction {
  const state = new TestFunctionState({
    zlpPolicy: options.zlpPolicy ?? ZLP_POLICY.APPEND_ON_MULTIPLE,
    patternSeed: options.patternSeed ?? DEFAULT_PATTERN_SEED,
    vetoQueryRemove: options.vetoQueryRemove,
  });
  const depth = options.depth ?? 4;
  const bufferBytes = options.bufferBytes ?? 1024 * 1024 + 512;
  let ctx: FunctionContext | undefined;
  return {
    name: 'loopback',
    state,
    pipes: { out: { direction: 'out' }, in: { direction: 'in' } },
    onSetup: (setup) => answerTestRequest(state, setup, ctx),
    // A function that must not lose its device (an open session, a firmware update) vetoes the query (D-CM).
    onQueryRemove: () => (state.vetoQueryRemove ? 'veto' : 'allow'),
    onConfigured(context) {
      ctx = context;
      const onError = (err: unknown): void => state.recordTransferFailure(err, context, 'loopback receive');
      context.runQueue('out', { depth, bufferBytes, onError }, async (data) => {
        state.counters.bulkOutTransfers++;
        state.counters.bulkOutBytes += BigInt(data.byteLength);
        try {
          const sent = await context.transferIn('in', data, {
            appendZeroLengthPacket: state.zlpPolicy === ZLP_POLICY.APPEND_ON_MULTIPLE,
          });
          state.counters.bulkInTransfers++;
          state.counters.bulkInBytes += BigInt(sent);
        } catch (err) {
          state.recordTransferFailure(err, context, 'loopback echo');
        }
      });
    },
    onDeconfigured() {
      ctx = undefined;
    },
  };
}
