/**
 * The host side the sim backend exports over USB/IP: the simulated device of the session open now, or no
 * device between sessions. Each session is a fresh simulation (a fresh world per scenario, as in sim); when
 * one ends its device detaches (imported connections end, as on a real unplug) and the next session's
 * device attaches.
 */
import type { UsbDeviceFilter, UsbDeviceHandle, UsbDeviceInfo, UsbHost, UsbHotplugEvent, UsbOpenOptions } from '../../host-side/index.js';
import { LibusbError, TimeoutError, AbortedError } from '../../core/index.js';

export class SessionUsbHost implements UsbHost {
  readonly backend = 'sim-session';
  #current: UsbHost | undefined;
  #devices: UsbDeviceInfo[] = [];
  #forward: AbortController | undefined;
  readonly #subscribers = new Set<(e: UsbHotplugEvent) => void>();
  readonly #changed = new Set<() => void>();

  /** Makes `host` the exported one (undefined: none); the old one's devices detach. */
  async switchTo(host: UsbHost | undefined): Promise<void> {
    this.#forward?.abort();
    this.#forward = undefined;
    for (const device of this.#devices) this.#emit({ type: 'detach', device });
    this.#devices = [];
    this.#current = host;
    if (host === undefined) return;
    this.#devices = await host.listDevices();
    for (const device of this.#devices) this.#emit({ type: 'attach', device });
    const forward = new AbortController();
    this.#forward = forward;
    void (async () => {
      try {
        for await (const e of host.hotplugEvents({ signal: forward.signal })) {
          if (forward.signal.aborted) return;
          this.#devices = e.type === 'attach' ? [...this.#devices.filter((d) => d.id !== e.device.id), e.device] : this.#devices.filter((d) => d.id !== e.device.id);
          this.#emit(e);
        }
      } catch {
        // The session's simulation closed: its devices were detached above.
      }
    })();
  }

  #emit(e: UsbHotplugEvent): void {
    for (const s of this.#subscribers) s(e);
    for (const c of [...this.#changed]) c();
  }

  async listDevices(filter?: UsbDeviceFilter): Promise<UsbDeviceInfo[]> {
    return this.#current === undefined ? [] : this.#current.listDevices(filter);
  }

  waitForDevice(filter: UsbDeviceFilter, options: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<UsbDeviceInfo> {
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (f: () => void): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#changed.delete(look);
        options.signal?.removeEventListener('abort', onAbort);
        f();
      };
      const look = (): void => {
        void this.listDevices(filter).then(
          ([d]) => d !== undefined && finish(() => resolve(d)),
          (err: unknown) => finish(() => reject(err)),
        );
      };
      const onAbort = (): void => finish(() => reject(new AbortedError('waitForDevice', options.signal?.reason)));
      const timer = setTimeout(() => finish(() => reject(new TimeoutError('waitForDevice', options.timeoutMs, 'no session device matched'))), options.timeoutMs);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.#changed.add(look);
      look();
    });
  }

  open(device: UsbDeviceInfo, options?: UsbOpenOptions): Promise<UsbDeviceHandle> {
    if (this.#current === undefined) {
      return Promise.reject(new LibusbError({ op: 'open', errno: -4, libusbName: 'LIBUSB_ERROR_NO_DEVICE', detail: 'no session is open on the device agent, so no device is attached' }));
    }
    return this.#current.open(device, options);
  }

  async *hotplugEvents(options: { signal?: AbortSignal | undefined } = {}): AsyncIterable<UsbHotplugEvent> {
    const queue: UsbHotplugEvent[] = [];
    let wake: (() => void) | undefined;
    const push = (e: UsbHotplugEvent): void => {
      queue.push(e);
      wake?.();
    };
    const onAbort = (): void => wake?.();
    this.#subscribers.add(push);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      while (options.signal?.aborted !== true) {
        const next = queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      this.#subscribers.delete(push);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    await this.switchTo(undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
