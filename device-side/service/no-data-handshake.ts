/**
 * The status stage of a class request without a data stage, per the `statusHandshake` setting
 * (docs/win32-backend.md#driver-settings).
 *
 * USB 2.0 §8.5.3 gives a no-data control transfer an IN status stage (the device sends the zero-length
 * packet: CONTROL_STATUS_HANDSHAKE_IN); the usbfnbase.h comment on UsbfnEventSetupPacket says class drivers
 * "should respond with IOCTL_INTERNAL_USBFN_CONTROL_STATUS_HANDSHAKE_OUT". Which one GenericUSBFn.sys wants is
 * not documented (docs/reference/documented-vs-inferred.md#drv-no-data-handshake). With `'auto'` the
 * preferred direction is tried first (IN until one worked), and when the driver rejects it with
 * ERROR_INVALID_PARAMETER (87) or ERROR_BAD_COMMAND (22) the other one is sent for the same request; the
 * direction that worked is logged once (`noDataHandshake`) and preferred from then on.
 */
import { Win32Error } from '../../core/index.js';
import { WIN32_ERROR } from '../abi/index.js';
import type { StatusHandshakeSetting } from '../driver-settings.js';
import type { UsbFnClient } from '../usbfn-client.js';
import type { DeviceEventLog } from './device-event-log.js';

export type HandshakeDirection = 'in' | 'out';

/** The Win32 errors after which `'auto'` tries the other direction: the driver refused the request itself. */
const REFUSED: ReadonlySet<number> = new Set([WIN32_ERROR.ERROR_INVALID_PARAMETER, WIN32_ERROR.ERROR_BAD_COMMAND]);

/** Sends the status stage of no-data requests; one per service, so what `'auto'` learnt outlives a handle. */
export class NoDataHandshake {
  readonly setting: StatusHandshakeSetting;
  readonly #log: DeviceEventLog;
  #preferred: HandshakeDirection;
  #confirmed: HandshakeDirection | undefined;

  constructor(setting: StatusHandshakeSetting, log: DeviceEventLog) {
    this.setting = setting;
    this.#log = log;
    this.#preferred = setting === 'out' ? 'out' : 'in';
  }

  /** The direction that last completed a no-data request, if any did. */
  get confirmed(): HandshakeDirection | undefined {
    return this.#confirmed;
  }

  /**
   * Sends the handshake for the current no-data request; resolves with the direction that was accepted.
   * @throws Win32Error from the client: the only attempt's error ('in'/'out'), or with 'auto' the fallback's
   * error when both were refused (the first refusal is logged), or the first error when it was not a refusal.
   */
  async send(client: UsbFnClient, signal: AbortSignal | undefined): Promise<HandshakeDirection> {
    const first = this.#preferred;
    try {
      await this.#sendOne(client, first, signal);
      this.#worked(first, undefined);
      return first;
    } catch (err) {
      if (this.setting !== 'auto' || !(err instanceof Win32Error) || !REFUSED.has(err.win32)) throw err;
      this.#log.warn('noDataHandshakeRefused', { direction: first, win32: err.win32, win32Name: err.win32Name });
      const second: HandshakeDirection = first === 'in' ? 'out' : 'in';
      await this.#sendOne(client, second, signal);
      this.#preferred = second;
      this.#worked(second, err);
      return second;
    }
  }

  #sendOne(client: UsbFnClient, direction: HandshakeDirection, signal: AbortSignal | undefined): Promise<void> {
    return direction === 'in' ? client.handshakeIn({ signal }) : client.handshakeOut({ signal });
  }

  #worked(direction: HandshakeDirection, refused: Win32Error | undefined): void {
    if (this.#confirmed === direction) return;
    this.#confirmed = direction;
    this.#log.info('noDataHandshake', {
      direction,
      setting: this.setting,
      ...(refused === undefined ? {} : { fallbackFrom: direction === 'in' ? 'out' : 'in', refusedWith: refused.win32Name }),
    });
  }
}
