/**
 * The source/sink test function (Linux usbtest / HLK style): the source keeps bulk IN transfers queued
 * with a seeded byte pattern; the sink receives bulk OUT transfers and verifies them against the same
 * pattern, counting errors. Both streams start at offset 0 on every configuration and on RESET_STATE,
 * so a host that knows the seed can generate and check any slice (test-protocol.ts `patternByte`).
 */
import { isCancelled, fillPattern, findPatternMismatch, TEST_REQUEST, ZLP_POLICY } from '../../core/index.js';
import { MAX_QUEUE_FAILURES_IN_A_ROW, type FunctionContext, type UsbFunction } from '../service/index.js';
import { DEFAULT_PATTERN_SEED } from './loopback-function.js';
import { answerTestRequest, TestFunctionState } from './test-requests.js';

export interface SourceSinkOptions {
  /** Requests kept queued on each pipe. Default 2. */
  readonly depth?: number | undefined;
  /** Length of each source IN transfer unless SET_NEXT_IN_LENGTH says otherwise. Default 4096. */
  readonly inLength?: number | undefined;
  /** Sink OUT buffer size. Default 64 KiB. */
  readonly bufferBytes?: number | undefined;
  readonly patternSeed?: number | undefined;
  readonly zlpPolicy?: number | undefined;
}

export interface SourceSinkFunction extends UsbFunction {
  readonly state: TestFunctionState;
}

export function createSourceSinkFunction(options: SourceSinkOptions = {}): SourceSinkFunction {
  const seed = options.patternSeed ?? DEFAULT_PATTERN_SEED;
  const state = new TestFunctionState({ zlpPolicy: options.zlpPolicy ?? ZLP_POLICY.APPEND_ON_MULTIPLE, patternSeed: seed });
  const depth = options.depth ?? 2;
  const inLength = options.inLength ?? 4096;
  let ctx: FunctionContext | undefined;
  let sourceOffset = 0;
  let sinkOffset = 0;

  const runSource = (context: FunctionContext): void => {
    let failuresInARow = 0;
    const next = async (): Promise<void> => {
      while (!context.signal.aborted) {
        const length = state.nextInLength ?? inLength;
        const data = new Uint8Array(length);
        fillPattern(data, seed, sourceOffset);
        sourceOffset += length;
        try {
          const sent = await context.transferIn('in', data, {
            appendZeroLengthPacket: state.zlpPolicy === ZLP_POLICY.APPEND_ON_MULTIPLE,
          });
          state.counters.bulkInTransfers++;
          state.counters.bulkInBytes += BigInt(sent);
          failuresInARow = 0;
        } catch (err) {
          state.recordTransferFailure(err, context, 'source');
          // A purge (reset/detach/unconfigure) cancels the queue before the bus event ends the configuration:
          // stop here rather than queue into a purged pipe; the next onConfigured starts the source again.
          if (context.signal.aborted || isCancelled(err)) return;
          // A driver that fails every request would otherwise be asked again forever.
          if (++failuresInARow >= MAX_QUEUE_FAILURES_IN_A_ROW) {
            context.log('sourceStopped', { failuresInARow });
            return;
          }
        }
      }
    };
    // `depth` producers share the stream offset: each takes the next slice when it starts a transfer.
    for (let i = 0; i < depth; i++) next().catch((err: unknown) => state.recordTransferFailure(err, context, 'source'));
  };

  return {
    name: 'source-sink',
    state,
    pipes: { out: { direction: 'out' }, in: { direction: 'in' } },
    onSetup: (setup) => {
      if (setup.bRequest === TEST_REQUEST.RESET_STATE) {
        sourceOffset = 0;
        sinkOffset = 0;
      }
      return answerTestRequest(state, setup, ctx);
    },
    onConfigured(context) {
      ctx = context;
      sourceOffset = 0;
      sinkOffset = 0;
      const onError = (err: unknown): void => state.recordTransferFailure(err, context, 'sink');
      context.runQueue('out', { depth, bufferBytes: options.bufferBytes ?? 64 * 1024, onError }, (data) => {
        state.counters.bulkOutTransfers++;
        state.counters.bulkOutBytes += BigInt(data.byteLength);
        const bad = findPatternMismatch(data, seed, sinkOffset);
        if (bad >= 0) {
          state.counters.patternErrors++;
          context.log('patternError', { offset: sinkOffset + bad, transferBytes: data.byteLength });
        }
        sinkOffset += data.byteLength;
      });
      runSource(context);
    },
    onDeconfigured() {
      ctx = undefined;
    },
  };
}
