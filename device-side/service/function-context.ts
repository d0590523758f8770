/**
 * The {@link FunctionContext} the service hands a function while the bus is configured: pipes resolved for
 * the current speed, transfers through {@link UsbFnClient} guarded by the configuration's AbortSignal, and
 * the queue helper.
 */
import { AbortedError, isCancelled, UsageError, type HarnessError } from '../../core/index.js';
import {
  USB_ENDPOINT_TYPE_BULK,
  USB_ENDPOINT_TYPE_INTERRUPT,
  USB_ENDPOINT_TYPE_ISOCHRONOUS,
  type UsbfnClassInterface,
} from '../abi/index.js';
import type { UsbFnClient } from '../usbfn-client.js';
import type { DeviceEventLog } from './device-event-log.js';
import { processQueueBuffers } from './queue-buffer-pool.js';
import type {
  RunQueueOptions,
  FunctionContext,
  PipeRequest,
  ResolvedPipe,
  TransferInOptions,
  TransferOptions,
} from './function-api.js';

/** {@link ConfiguredFunctionContext.runQueue} gives up after this many failed transfers in a row. */
export const MAX_QUEUE_FAILURES_IN_A_ROW = 8;

const TYPE_NAMES = {
  [USB_ENDPOINT_TYPE_BULK]: 'bulk',
  [USB_ENDPOINT_TYPE_INTERRUPT]: 'interrupt',
  [USB_ENDPOINT_TYPE_ISOCHRONOUS]: 'isochronous',
} as const;

/**
 * Matches a function's pipe requests against GET_CLASS_INFO's pipes for one speed, in declaration order.
 * @throws UsageError PIPE_NOT_FOUND naming the request and the pipes that exist.
 */
export function resolvePipes(
  requests: Readonly<Record<string, PipeRequest>>,
  classInterface: UsbfnClassInterface,
): Map<string, ResolvedPipe> {
  const taken = new Set<number>();
  const resolved = new Map<string, ResolvedPipe>();
  for (const [name, req] of Object.entries(requests)) {
    const wantType = req.type ?? 'bulk';
    const match = classInterface.pipes.find((p) => {
      const addr = p.epDesc.bEndpointAddress;
      const dir = (addr & 0x80) !== 0 ? 'in' : 'out';
      const type = TYPE_NAMES[(p.epDesc.bmAttributes & 0x03) as keyof typeof TYPE_NAMES];
      if (taken.has(p.pipeId) || dir !== req.direction || type !== wantType) return false;
      return req.endpointAddress === undefined || req.endpointAddress === addr;
    });
    if (match === undefined) {
      const have = classInterface.pipes
        .map((p) => `pipe ${p.pipeId} ep 0x${p.epDesc.bEndpointAddress.toString(16)}`)
        .join(', ');
      throw new UsageError(
        'PIPE_NOT_FOUND',
        `function pipe '${name}' (${wantType} ${req.direction}${req.endpointAddress === undefined ? '' : ` 0x${req.endpointAddress.toString(16)}`}) ` +
          `matches no pipe of interface ${classInterface.interfaceNumber} (${have || 'no pipes'}): ` +
          'fix the function\'s pipe declaration or the InterfaceDescriptor in the USBFN registry configuration',
        { pipe: name },
      );
    }
    taken.add(match.pipeId);
    resolved.set(name, {
      name,
      pipeId: match.pipeId,
      endpointAddress: match.epDesc.bEndpointAddress,
      direction: req.direction,
      type: wantType,
      maxPacketSize: match.epDesc.wMaxPacketSize & 0x7ff,
    });
  }
  return resolved;
}

/** The context of one configuration; `controller` aborts when it ends. */
export class ConfiguredFunctionContext implements FunctionContext {
  readonly speed: FunctionContext['speed'];
  readonly signal: AbortSignal;
  readonly #pipes: Map<string, ResolvedPipe>;
  readonly #client: UsbFnClient;
  readonly #log: DeviceEventLog;
  readonly #functionName: string;

  constructor(args: {
    speed: FunctionContext['speed'];
    signal: AbortSignal;
    pipes: Map<string, ResolvedPipe>;
    client: UsbFnClient;
    log: DeviceEventLog;
    functionName: string;
  }) {
    this.speed = args.speed;
    this.signal = args.signal;
    this.#pipes = args.pipes;
    this.#client = args.client;
    this.#log = args.log;
    this.#functionName = args.functionName;
  }

  pipe(name: string): ResolvedPipe {
    const p = this.#pipes.get(name);
    if (p === undefined) {
      throw new UsageError(
        'PIPE_NOT_FOUND',
        `function '${this.#functionName}' has no pipe named '${name}' (it has: ${[...this.#pipes.keys()].join(', ') || 'none'}): declare it in UsbFunction.pipes`,
        { pipe: name },
      );
    }
    return p;
  }

  pipeByAddress(endpointAddress: number): ResolvedPipe | undefined {
    for (const p of this.#pipes.values()) if (p.endpointAddress === endpointAddress) return p;
    return undefined;
  }

  transferIn(pipe: string, data: Uint8Array, options?: TransferInOptions): Promise<number> {
    const p = this.#expectDirection(pipe, 'in');
    // Transfers only while configured (D-OV): after the configuration ended nothing reaches the driver.
    if (this.signal.aborted) return this.#ended(`transferIn('${pipe}')`);
    const signal = options?.signal ?? this.signal;
    return options?.appendZeroLengthPacket
      ? this.#client.transferInAppendZeroPacket(p.pipeId, data, { signal })
      : this.#client.transferIn(p.pipeId, data, { signal });
  }

  transferOut(pipe: string, buffer: Uint8Array, options?: TransferOptions): Promise<number> {
    const p = this.#expectDirection(pipe, 'out');
    if (this.signal.aborted) return this.#ended(`transferOut('${pipe}')`);
    return this.#client.transferOut(p.pipeId, buffer, { signal: options?.signal ?? this.signal });
  }

  async setStall(pipe: string, stalled: boolean): Promise<void> {
    const p = this.pipe(pipe);
    if (this.signal.aborted) return this.#ended(`setStall('${pipe}')`);
    await this.#client.setPipeState(p.pipeId, stalled, { signal: this.signal });
  }

  getStall(pipe: string): Promise<boolean> {
    const p = this.pipe(pipe);
    if (this.signal.aborted) return this.#ended(`getStall('${pipe}')`);
    return this.#client.getPipeState(p.pipeId, { signal: this.signal });
  }

  runQueue(
    pipe: string,
    options: RunQueueOptions,
    onData: (data: Uint8Array) => void | Promise<void>,
  ): void {
    const p = this.#expectDirection(pipe, 'out');
    if (!Number.isInteger(options.depth) || options.depth < 1 || options.depth > 64) {
      throw new UsageError('INVALID_ARGUMENT', `runQueue depth ${options.depth}: use an integer 1..64`);
    }
    // Transfers are submitted `depth` deep; completions are handed to onData strictly in submission order,
    // so a loopback echoes in the order the host sent.
    const buffers = Array.from({ length: options.depth }, () => processQueueBuffers.take(options.bufferBytes));
    // The view handed to onData for each buffer, kept while the received length repeats (a loopback of
    // equal transfers allocates none). It aliases the buffer, as a fresh view would.
    const views = buffers.map((b) => b.subarray(0, 0));
    const inFlight: Promise<number>[] = [];
    // Reset, detach and SET_CONFIGURATION(0) purge every queue with ERROR_OPERATION_ABORTED before the bus
    // event that ends the configuration arrives (D-UFX). Once one of ours was cancelled, resubmitting would
    // only issue transfers into a purged queue, so the queue ends; the next configuration starts a new one.
    let cancelled = false;
    const onSettled = (err: unknown): void => {
      if (isCancelled(err)) cancelled = true;
    };
    const open = (): boolean => !cancelled && !this.signal.aborted;
    const submit = (i: number): void => {
      const promise = this.#client.transferOut(p.pipeId, buffers[i]!, { signal: this.signal });
      promise.catch(onSettled); // observed in order below; this only notes a purge early
      inFlight[i] = promise;
    };
    for (let i = 0; i < options.depth; i++) submit(i);
    let failuresInARow = 0;
    const loop = async (): Promise<void> => {
      for (let i = 0; open(); i = (i + 1) % options.depth) {
        let n: number;
        try {
          n = await inFlight[i]!;
        } catch (err) {
          if (!open() || isCancelled(err)) return;
          if (options.onError) options.onError(err);
          else this.fail(err as Error, `runQueue(${pipe})`);
          // A driver that fails every request would otherwise be asked again forever.
          if (++failuresInARow >= MAX_QUEUE_FAILURES_IN_A_ROW) {
            this.#log.error(
              'queueStopped',
              new UsageError(
                'QUEUE_STOPPED',
                `runQueue('${pipe}') stopped after ${failuresInARow} failed transfers in a row; see the functionError entries before this one`,
                { pipe },
              ),
              { function: this.#functionName },
            );
            return;
          }
          submit(i);
          continue;
        }
        failuresInARow = 0;
        try {
          let view = views[i]!;
          if (view.length !== n) views[i] = view = buffers[i]!.subarray(0, n);
          await onData(view);
        } catch (err) {
          if (!open() || isCancelled(err)) return;
          this.fail(err as Error, `runQueue(${pipe}) handler`);
        }
        if (open()) submit(i);
      }
    };
    void loop()
      .catch((err: unknown) => this.fail(err as Error, `runQueue(${pipe})`))
      // The buffers go back once no transfer holds one (a purge may still be completing the others).
      .finally(() => Promise.allSettled(inFlight).then(() => buffers.forEach((b) => processQueueBuffers.give(b))));
  }

  log(kind: string, detail?: Record<string, unknown>): void {
    this.#log.info(kind, { function: this.#functionName, ...detail });
  }

  fail(error: HarnessError | Error, where: string): void {
    this.#log.error('functionError', error, { function: this.#functionName, where });
  }

  /** A call on a context whose configuration ended: AbortedError (isCancelled), no IOCTL issued. */
  #ended(what: string): Promise<never> {
    return Promise.reject(new AbortedError(`${what} on function '${this.#functionName}' after its configuration ended`, this.signal.reason));
  }

  #expectDirection(pipe: string, direction: 'in' | 'out'): ResolvedPipe {
    const p = this.pipe(pipe);
    if (p.direction !== direction) {
      throw new UsageError(
        'PIPE_DIRECTION',
        `pipe '${pipe}' is an ${p.direction.toUpperCase()} pipe (0x${p.endpointAddress.toString(16)}): use transfer${p.direction === 'in' ? 'In' : 'Out'} on it`,
        { pipe },
      );
    }
    return p;
  }
}
