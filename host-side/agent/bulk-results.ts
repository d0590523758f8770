/**
 * What the bulk operations of {@link HostAgent} take and report: loopback, pipelined loopback, source reads
 * and throughput. Byte counts are exact; times are on the harness clock (virtual in sim, real in lab).
 */
import type { UsbTransferStatus } from '../usb-host.js';

/** Per-call limits of a bulk operation: the whole operation's deadline and an optional abort. */
export interface BulkOptions {
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface LoopbackResult {
  /** 'ok' when every transfer completed; otherwise the first stall/babble seen. */
  readonly status: UsbTransferStatus;
  readonly bytesWritten: number;
  readonly bytesRead: number;
  /** Offset of the first byte that differs from the pattern, or -1 (also -1 when nothing was read). */
  readonly firstMismatch: number;
  /** Byte-exact: status ok, all bytes back, no mismatch. */
  readonly ok: boolean;
}

export interface SourceReadResult {
  readonly status: UsbTransferStatus;
  readonly bytesRead: number;
  readonly firstMismatch: number;
  /** The bytes read (for a scenario that wants to look). */
  readonly data: Uint8Array;
}

export interface PipelinedLoopbackOptions extends BulkOptions {
  /** Pattern seed (default 1); every transfer carries the pattern from offset 0. */
  readonly seed?: number | undefined;
}

export interface PipelinedLoopbackResult {
  /** 'ok' when every transfer came back; otherwise the first stall/babble seen (the run stops there). */
  readonly status: UsbTransferStatus;
  /** OUT transfers that completed. */
  readonly transfers: number;
  readonly bytesWritten: number;
  readonly bytesRead: number;
  /** Offset in the whole IN stream (transfer index × transferBytes + offset) of the first wrong byte, or -1. */
  readonly firstMismatch: number;
  /** Byte-exact: status ok, every byte back, no mismatch. */
  readonly ok: boolean;
  /** On the harness clock (virtual in sim, real in lab). */
  readonly elapsedMs: number;
}

export interface ThroughputOptions extends BulkOptions {
  readonly direction: 'in' | 'out';
  /** Total bytes to move. */
  readonly totalBytes: number;
  /** Bytes per transfer (default 64 KiB). */
  readonly transferBytes?: number | undefined;
  /** Transfers kept in flight (default 4). */
  readonly queueDepth?: number | undefined;
  /** Pattern seed for OUT data (default 1). */
  readonly seed?: number | undefined;
}

export interface ThroughputResult {
  readonly direction: 'in' | 'out';
  readonly bytes: number;
  readonly transfers: number;
  /** On the harness clock. */
  readonly elapsedMs: number;
  /** bytes / elapsed seconds on the harness clock (Infinity if no time passed). */
  readonly bytesPerSecond: number;
}
