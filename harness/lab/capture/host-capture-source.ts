/**
 * The `HostCaptureSource` seam of the lab world: a USB capture taken on the host PC around one scenario
 * (usbmon on Linux, USBPcap on Windows). `start()` before the scenario, `stop()` after it. A capture that
 * cannot be taken is never a silent absence: `stop()` then resolves `{ unavailable }` with why and how to
 * fix it, and `start()` does not fail the scenario for it.
 * @see docs/bench-hardware.md
 */

/** Options of start and stop. */
export interface CaptureOptions {
  readonly signal?: AbortSignal | undefined;
  /** Bound of the step (tool start-up, or stop and flush). Default: the source's. */
  readonly timeoutMs?: number | undefined;
}

/** The capture of one scenario, or why there is none. */
export type HostCaptureResult = { readonly pcap: Uint8Array } | { readonly unavailable: string };

export interface HostCaptureSource {
  /**
   * Starts capturing and resolves once the tool captures. Resolves also when no capture is possible (the
   * reason comes with `stop()`).
   * @throws AbortedError when `signal` aborts (the tool is stopped and reaped first); UsageError INVALID_STATE
   * when already started.
   */
  start(options?: CaptureOptions): Promise<void>;
  /**
   * Stops the tool (it flushes its file), reaps it, reads the capture and deletes its temporary file.
   * @throws AbortedError when `signal` aborts (the tool is still killed and reaped).
   */
  stop(options?: CaptureOptions): Promise<HostCaptureResult>;
}
