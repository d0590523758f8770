/**
 * Constants and enums of usbfnbase.h (docs/reference/structs.md#constants, #enums). All enums are C `enum`s, 4 bytes on the wire.
 *
 * @see docs/reference/structs.md (usbfnbase.h; public copy in microsoft/win32metadata generation/WinSDK/RecompiledIdlHeaders/shared/usbfnbase.h)
 */
import type { UsbSpeed } from '../../core/index.js';

/** Endpoints a function may have besides EP0. */
export const MAX_NUM_USBFN_ENDPOINTS = 15;
/**
 * Pipes per class interface, EP0 included: 16.
 * @note The header defines it as `(MAX_NUM_USBFN_ENDPOINTS)+1` **without outer parentheses**, so in C
 * `2*MAX_NUM_USBFN_PIPES` evaluates to 31, not 32. Here it is a plain number.
 */
export const MAX_NUM_USBFN_PIPES = MAX_NUM_USBFN_ENDPOINTS + 1;
/** WCHARs in USBFN_BUS_CONFIGURATION_INFO.ConfigurationName. */
export const MAX_CONFIGURATION_NAME_LENGTH = 40;
/** WCHARs in USBFN_USB_STRING.UsbString. */
export const MAX_USB_STRING_LENGTH = 255;
export const MAX_SUPPORTED_CONFIGURATIONS = 12;
/** WCHARs in InterfaceName (incl. NUL). */
export const MAX_INTERFACE_NAME_LENGTH = 40;
export const MAX_ALTERNATE_NAME_LENGTH = 40;
export const MAX_ASSOCIATION_NAME_LENGTH = 40;
/** `sizeof(L"{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}")` bytes: 38 chars + NUL, 2 bytes each. */
export const MAX_INTERFACE_GUID_SIZE = 78;
/** WCHARs in InterfaceGuid (38 + NUL). */
export const MAX_INTERFACE_GUID_LENGTH = 39;
/**
 * Set in an interrupt endpoint's wMaxPacketSize so the stack does not re-size it per speed. The header
 * says "MSB" but 0x80 is bit 7 of the 16-bit field: ambiguous, treat as opaque (docs/reference/structs.md#constants; single source).
 */
export const USBFN_INTERRUPT_ENDPOINT_SIZE_NOT_UPDATEABLE_MASK = 0x80;

/** USB electrical test mode selectors (usbfnbase.h; USB 2.0 §9.4.9 Table 9-7). */
export const USB_TEST_MODE_TEST_J = 0x01;
export const USB_TEST_MODE_TEST_K = 0x02;
export const USB_TEST_MODE_TEST_SE0_NAK = 0x03;
export const USB_TEST_MODE_TEST_PACKET = 0x04;
export const USB_TEST_MODE_TEST_FORCE_ENABLE = 0x05;

/** Registry path of the USBFN enumeration keys, kernel form (trailing backslash as in the header). */
export const KREGUSBFNENUMPATH = '\\Registry\\Machine\\SYSTEM\\CurrentControlSet\\Control\\USBFN\\';
/** Registry path of the USBFN enumeration keys, user-mode form. */
export const UREGUSBFNENUMPATH = 'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\USBFN\\';
/** Manufacturing-mode variant (kernel form). */
export const KREGMANUSBFNENUMPATH =
  '\\Registry\\Machine\\SYSTEM\\CurrentControlSet\\Control\\ManufacturingMode\\Current\\USBFN\\';
/** Manufacturing-mode variant (user-mode form). */
export const UREGMANUSBFNENUMPATH =
  'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\ManufacturingMode\\Current\\USBFN\\';

/** USBFN_EVENT: what a BUS_EVENT_NOTIFICATION reports. */
export const USBFN_EVENT = {
  UsbfnEventMinimum: 0,
  UsbfnEventAttach: 1,
  UsbfnEventReset: 2,
  UsbfnEventDetach: 3,
  UsbfnEventSuspend: 4,
  UsbfnEventResume: 5,
  UsbfnEventSetupPacket: 6,
  UsbfnEventConfigured: 7,
  UsbfnEventUnConfigured: 8,
  /** Deprecated. */
  UsbfnEventPortType: 9,
  /** Deprecated. */
  UsbfnEventBusTearDown: 10,
  UsbfnEventSetInterface: 11,
  UsbfnEventMaximum: 12,
} as const;
export type UsbfnEventValue = (typeof USBFN_EVENT)[keyof typeof USBFN_EVENT];

/** USBFN_BUS_SPEED */
export const USBFN_BUS_SPEED = {
  UsbfnBusSpeedLow: 0,
  UsbfnBusSpeedFull: 1,
  UsbfnBusSpeedHigh: 2,
  UsbfnBusSpeedSuper: 3,
  UsbfnBusSpeedMaximum: 4,
} as const;
export type UsbfnBusSpeedValue = (typeof USBFN_BUS_SPEED)[keyof typeof USBFN_BUS_SPEED];

/** USBFN_PORT_TYPE (only reported by the deprecated UsbfnEventPortType). */
export const USBFN_PORT_TYPE = {
  UsbfnUnknownPort: 0,
  UsbfnStandardDownstreamPort: 1,
  UsbfnChargingDownstreamPort: 2,
  UsbfnDedicatedChargingPort: 3,
  UsbfnInvalidDedicatedChargingPort: 4,
  UsbfnProprietaryDedicatedChargingPort: 5,
  UsbfnPortTypeMaximum: 6,
} as const;

/** USBFN_DIRECTION (Tx/Rx are aliases of In/Out). */
export const USBFN_DIRECTION = {
  UsbfnDirectionMinimum: 0,
  UsbfnDirectionIn: 1,
  UsbfnDirectionOut: 2,
  UsbfnDirectionTx: 1,
  UsbfnDirectionRx: 2,
  UsbfnDirectionMaximum: 3,
} as const;

/** USBFN_DEVICE_STATE (class-extension internal; not returned by GenericUSBFn IOCTLs). */
export const USBFN_DEVICE_STATE = {
  UsbfnDeviceStateMinimum: 0,
  UsbfnDeviceStateAttached: 1,
  UsbfnDeviceStateDefault: 2,
  UsbfnDeviceStateDetached: 3,
  UsbfnDeviceStateAddressed: 4,
  UsbfnDeviceStateConfigured: 5,
  UsbfnDeviceStateSuspended: 6,
  UsbfnDeviceStateStateMaximum: 7,
} as const;

const SPEED_NAMES: readonly UsbSpeed[] = ['low', 'full', 'high', 'super'];

/**
 * `'low' | UsbDeviceSpeed` for a USBFN_BUS_SPEED value, `unknown(<v>)` otherwise.
 * @example busSpeedName(USBFN_BUS_SPEED.UsbfnBusSpeedHigh) // 'high'
 */
export function busSpeedName(v: number): UsbSpeed | `unknown(${number})` {
  return SPEED_NAMES[v] ?? `unknown(${v})`;
}

/** The USBFN_BUS_SPEED value of a short speed name. */
export function busSpeedValue(name: UsbSpeed): UsbfnBusSpeedValue {
  return SPEED_NAMES.indexOf(name) as UsbfnBusSpeedValue;
}

const EVENT_NAME_BY_VALUE: ReadonlyMap<number, string> = new Map(
  Object.entries(USBFN_EVENT).map(([k, v]) => [v, k] as const),
);

/** The usbfnbase.h name of a USBFN_EVENT value, or `UsbfnEvent(<v>)` for an unknown one. */
export function usbfnEventName(v: number): string {
  return EVENT_NAME_BY_VALUE.get(v) ?? `UsbfnEvent(${v})`;
}
