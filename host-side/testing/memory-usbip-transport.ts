/**
 * `MemoryUsbIpTransport`: a {@link UsbIpTransport} in memory, so a test can feed a USB/IP server session
 * bytes directly (no socket) and read what it wrote back.
 */
import type { UsbIpTransport } from '../usbip/index.js';

export class MemoryUsbIpTransport implements UsbIpTransport {
  readonly remote: string;
  /** Every chunk the session wrote, in order. */
  readonly written: Uint8Array[] = [];
  /** Whether the session ended the connection. */
  ended = false;
  paused = false;
  /** Return false from write (simulate a slow reader) while true. */
  congested = false;

  constructor(remote = 'memory') {
    this.remote = remote;
  }

  write(chunks: readonly Uint8Array[], onWritten?: () => void): boolean {
    if (!this.ended) for (const c of chunks) this.written.push(c.slice());
    onWritten?.();
    return !this.congested;
  }

  end(): void {
    this.ended = true;
  }

  pauseInput(): void {
    this.paused = true;
  }

  resumeInput(): void {
    this.paused = false;
  }

  /** Everything written so far, as one buffer. */
  bytes(): Uint8Array {
    const total = this.written.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of this.written) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
