/**
 * Settings for the driver behaviours the documents leave open. Each one answers a question the first run on
 * real hardware settles (`usbfn-hil device probe` reports the value to use); until then the default is the
 * choice that works whichever way the driver behaves, or the documented reading.
 *
 * | setting | default | the open question |
 * |---|---|---|
 * | `statusHandshake` | `'auto'` | which status handshake GenericUSBFn.sys wants for a class request without a data stage (docs/reference/documented-vs-inferred.md#drv-no-data-handshake) |
 * | `busEventBytes` | `'tolerant'` | lpBytesReturned of BUS_EVENT_NOTIFICATION (docs/reference/documented-vs-inferred.md#drv-bytes-returned) |
 * | `ep0PipeId` | `'auto'` | EP0's USBFNPIPEID (docs/reference/documented-vs-inferred.md#drv-pipe-ids) |
 * | `zeroLengthIn` | `'null-buffer'` | how a 0-byte TRANSFER_IN reaches the driver (docs/reference/documented-vs-inferred.md#link-zero-length-in) |
 *
 * @see docs/win32-backend.md#driver-settings
 */
import { UsageError } from '../core/index.js';

/** How the status stage of a class request without a data stage is sent. */
export type StatusHandshakeSetting =
  /** CONTROL_STATUS_HANDSHAKE_IN: the device sends the status ZLP (USB 2.0 §8.5.3). */
  | 'in'
  /** CONTROL_STATUS_HANDSHAKE_OUT: what the usbfnbase.h comment on UsbfnEventSetupPacket says. */
  | 'out'
  /**
   * HANDSHAKE_IN first; when the driver fails it with ERROR_INVALID_PARAMETER (87) or ERROR_BAD_COMMAND (22),
   * HANDSHAKE_OUT for the same request. The direction that worked is logged once and tried first from then on.
   */
  | 'auto';

/** What a BUS_EVENT_NOTIFICATION may return in lpBytesReturned. */
export type BusEventBytesSetting =
  /** Exactly 12 (sizeof USBFN_NOTIFICATION); any other count fails the bus-event loop. */
  | 'strict'
  /**
   * 4 to 12: the buffer is zeroed before each request and all 12 bytes are decoded; a count other than 12
   * is logged once as a warning. Fewer than 4 (no Event field) still fails.
   */
  | 'tolerant';

/** How a 0-byte TRANSFER_IN (a standalone zero-length packet) is issued. */
export type ZeroLengthInSetting =
  /** TRANSFER_IN with lpOutBuffer NULL and nOutBufferSize 0. */
  | 'null-buffer'
  /** TRANSFER_IN with a non-NULL lpOutBuffer and nOutBufferSize 0 (for a driver that checks the pointer). */
  | 'empty-buffer'
  /** TRANSFER_IN_APPEND_ZERO_PKT with no buffer (0 is a multiple of wMaxPacketSize). */
  | 'append-zero-packet';

/** The driver-behaviour settings of the device side (client and service). */
export interface UsbFnDriverSettings {
  readonly statusHandshake: StatusHandshakeSetting;
  readonly busEventBytes: BusEventBytesSetting;
  /** `'auto'`: the PipeId of an endpoint-0 entry in GET_CLASS_INFO's PipeArr when there is one, else 0. */
  readonly ep0PipeId: 'auto' | number;
  readonly zeroLengthIn: ZeroLengthInSetting;
}

/** The defaults (see the module table). */
export const DEFAULT_DRIVER_SETTINGS: UsbFnDriverSettings = {
  statusHandshake: 'auto',
  busEventBytes: 'tolerant',
  ep0PipeId: 'auto',
  zeroLengthIn: 'null-buffer',
};

/** The values each named setting takes (`ep0PipeId` is `'auto'` or a USBFNPIPEID). */
export const DRIVER_SETTING_CHOICES = {
  statusHandshake: ['in', 'out', 'auto'],
  busEventBytes: ['strict', 'tolerant'],
  zeroLengthIn: ['null-buffer', 'empty-buffer', 'append-zero-packet'],
} as const satisfies { readonly [K in Exclude<keyof UsbFnDriverSettings, 'ep0PipeId'>]: readonly UsbFnDriverSettings[K][] };

/**
 * The defaults overridden by `partial`, checked.
 * @param options.source Where `partial` came from (e.g. `--driver-settings C:\\probe.json`): the message
 *   starts with it, and the error's data carries it.
 * @throws UsageError INVALID_ARGUMENT naming the setting, the bad value and the allowed ones.
 */
export function resolveDriverSettings(partial: Partial<UsbFnDriverSettings> | undefined = {}, options: { source?: string | undefined } = {}): UsbFnDriverSettings {
  const where = options.source === undefined ? '' : `${options.source}: `;
  const data = (setting: string) => ({ setting, ...(options.source === undefined ? {} : { source: options.source }) });
  const known = new Set(Object.keys(DEFAULT_DRIVER_SETTINGS));
  for (const key of Object.keys(partial)) {
    if (!known.has(key)) {
      throw new UsageError('INVALID_ARGUMENT', `${where}unknown driver setting '${key}': use one of ${[...known].join(', ')}`, data(key));
    }
  }
  const settings = { ...DEFAULT_DRIVER_SETTINGS, ...stripUndefined(partial) };
  for (const [key, allowed] of Object.entries(DRIVER_SETTING_CHOICES)) {
    const value = settings[key as keyof typeof DRIVER_SETTING_CHOICES];
    if (!(allowed as readonly string[]).includes(value)) {
      throw new UsageError('INVALID_ARGUMENT', `${where}driver setting ${key} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`, data(key));
    }
  }
  const ep0 = settings.ep0PipeId;
  if (ep0 !== 'auto' && (!Number.isInteger(ep0) || ep0 < 0 || ep0 > 0xffffffff)) {
    throw new UsageError('INVALID_ARGUMENT', `${where}driver setting ep0PipeId ${JSON.stringify(ep0)} is not "auto" or a USBFNPIPEID (an integer 0..0xFFFFFFFF)`, data('ep0PipeId'));
  }
  return settings;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
