/**
 * A host with no way to capture (e.g. macOS, or a bench configured without capture): start() does nothing,
 * stop() says why there is no capture.
 */
import { AbortedError } from '../../../core/index.js';
import type { CaptureOptions, HostCaptureResult, HostCaptureSource } from './host-capture-source.js';

export class UnavailableCaptureSource implements HostCaptureSource {
  readonly kind = 'none';
  readonly reason: string;

  constructor(reason: string) {
    this.reason = reason;
  }

  start(options: CaptureOptions = {}): Promise<void> {
    if (options.signal?.aborted) return Promise.reject(new AbortedError('starting the host capture', options.signal.reason));
    return Promise.resolve();
  }

  stop(_options?: CaptureOptions): Promise<HostCaptureResult> {
    return Promise.resolve({ unavailable: this.reason });
  }
}
