/**
 * The fourteen GenericUSBFn.sys IOCTL codes (genericusbfnioctl.h) and what each one expects.
 *
 * Every code is `CTL_CODE(FILE_DEVICE_UNKNOWN, fn, method, FILE_READ_DATA | FILE_WRITE_DATA)`, i.e.
 * `0x0022C000 | (fn << 2) | method`; identical on x86, x64 and ARM64.
 *
 * @see docs/reference/ioctls.md#summary (genericusbfnioctl.h; values cross-checked against the windows-rs bindings and a C build against the header)
 * @see https://learn.microsoft.com/windows/win32/api/genericusbfnioctl/
 */

/** winioctl.h transfer methods: how the I/O manager passes the buffers. */
export const METHOD_BUFFERED = 0;
export const METHOD_IN_DIRECT = 1;
export const METHOD_OUT_DIRECT = 2;
export const METHOD_NEITHER = 3;

/** winioctl.h device type used by all GenericUSBFn IOCTLs. */
export const FILE_DEVICE_UNKNOWN = 0x22;

/** winioctl.h required-access bits (FILE_READ_DATA/FILE_WRITE_DATA share values with FILE_READ_ACCESS/FILE_WRITE_ACCESS). */
export const FILE_ANY_ACCESS = 0;
export const FILE_READ_DATA = 1;
export const FILE_WRITE_DATA = 2;
export const FILE_READ_ACCESS = 1;
export const FILE_WRITE_ACCESS = 2;

/**
 * winioctl.h `CTL_CODE`: `(DeviceType << 16) | (Access << 14) | (Function << 2) | Method`, unsigned.
 * @see https://learn.microsoft.com/windows-hardware/drivers/kernel/defining-i-o-control-codes
 */
export function CTL_CODE(deviceType: number, fn: number, method: number, access: number): number {
  return ((deviceType << 16) | (access << 14) | (fn << 2) | method) >>> 0;
}

const RW = FILE_READ_DATA | FILE_WRITE_DATA;

// genericusbfnioctl.h, in header order (function numbers 0x03–0x10).
export const IOCTL_GENERICUSBFN_TRANSFER_IN = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x03, METHOD_IN_DIRECT, RW);
export const IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x04, METHOD_IN_DIRECT, RW);
export const IOCTL_GENERICUSBFN_TRANSFER_OUT = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x05, METHOD_OUT_DIRECT, RW);
export const IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x06, METHOD_BUFFERED, RW);
export const IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x07, METHOD_BUFFERED, RW);
export const IOCTL_GENERICUSBFN_GET_CLASS_INFO = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x08, METHOD_OUT_DIRECT, RW);
export const IOCTL_GENERICUSBFN_GET_PIPE_STATE = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x09, METHOD_OUT_DIRECT, RW);
export const IOCTL_GENERICUSBFN_SET_PIPE_STATE = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x0a, METHOD_IN_DIRECT, RW);
export const IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x0b, METHOD_BUFFERED, RW);
export const IOCTL_GENERICUSBFN_DEACTIVATE_USB_BUS = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x0c, METHOD_BUFFERED, RW);
export const IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x0d, METHOD_OUT_DIRECT, RW);
export const IOCTL_GENERICUSBFN_GET_CLASS_INFO_EX = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x0e, METHOD_OUT_DIRECT, RW);
export const IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x0f, METHOD_OUT_DIRECT, RW);
export const IOCTL_GENERICUSBFN_REGISTER_USB_STRING = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x10, METHOD_IN_DIRECT, RW);

/** The IOCTL names (the part after `IOCTL_GENERICUSBFN_` kept, full name verbatim). */
export type IoctlName =
  | 'IOCTL_GENERICUSBFN_TRANSFER_IN'
  | 'IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT'
  | 'IOCTL_GENERICUSBFN_TRANSFER_OUT'
  | 'IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN'
  | 'IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT'
  | 'IOCTL_GENERICUSBFN_GET_CLASS_INFO'
  | 'IOCTL_GENERICUSBFN_GET_PIPE_STATE'
  | 'IOCTL_GENERICUSBFN_SET_PIPE_STATE'
  | 'IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS'
  | 'IOCTL_GENERICUSBFN_DEACTIVATE_USB_BUS'
  | 'IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION'
  | 'IOCTL_GENERICUSBFN_GET_CLASS_INFO_EX'
  | 'IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET'
  | 'IOCTL_GENERICUSBFN_REGISTER_USB_STRING';

/**
 * What a buffer of an IOCTL must be. `exact`: exactly `bytes`; `atLeast`: `bytes` or more (the WDF
 * WdfRequestRetrieve*Buffer minimum-size pattern); `any`: any length including 0 (transfer data); `none`:
 * no buffer (NULL, length 0).
 */
export type IoctlBufferRule =
  | { readonly kind: 'none' }
  | { readonly kind: 'exact'; readonly bytes: number; readonly struct: string }
  | { readonly kind: 'atLeast'; readonly bytes: number; readonly struct: string }
  | { readonly kind: 'any'; readonly what: string };

/** One row of docs/reference/ioctls.md#summary. */
export interface IoctlInfo {
  readonly name: IoctlName;
  readonly code: number;
  /** CTL_CODE Function number. */
  readonly function: number;
  /** METHOD_* value. */
  readonly method: number;
  /** lpInBuffer rule. */
  readonly input: IoctlBufferRule;
  /** lpOutBuffer rule. */
  readonly output: IoctlBufferRule;
  /**
   * Whether the driver writes the output buffer (`write`: BUFFERED/OUT_DIRECT) or reads it (`read`:
   * IN_DIRECT, e.g. TRANSFER_IN carries the data to send in the *output* buffer); `none` without one.
   */
  readonly outputAccess: 'write' | 'read' | 'none';
  /** `pending`: the driver pends the request until a bus/host event; `immediate`: completes at once (inferred, docs/reference/ioctls.md#completion). */
  readonly completes: 'pending' | 'immediate';
}

const PIPE_ID: IoctlBufferRule = { kind: 'exact', bytes: 4, struct: 'USBFNPIPEID' };
const NONE: IoctlBufferRule = { kind: 'none' };

/**
 * Every GenericUSBFn IOCTL with its buffer rules (docs/reference/ioctls.md#summary).
 *
 * ASSUMPTION (docs/reference/documented-vs-inferred.md#drv-input-length): USBFNPIPEID inputs must be exactly 4 bytes (≠ 4 → ERROR_INVALID_PARAMETER).
 * ASSUMPTION (docs/reference/documented-vs-inferred.md#drv-output-length, WDF minimum-size pattern): struct outputs need *at least* sizeof (a larger
 * buffer is accepted); GET_INTERFACE_DESCRIPTOR_SET needs at least sizeof(USBFN_INTERFACE_INFO) = 12 for
 * input and output (room for the header the driver fills, incl. Size on STATUS_BUFFER_TOO_SMALL).
 */
export const IOCTL_TABLE: readonly IoctlInfo[] = [
  {
    name: 'IOCTL_GENERICUSBFN_TRANSFER_IN',
    code: IOCTL_GENERICUSBFN_TRANSFER_IN,
    function: 0x03,
    method: METHOD_IN_DIRECT,
    input: PIPE_ID,
    output: { kind: 'any', what: 'data to send to the host' },
    outputAccess: 'read',
    completes: 'pending',
  },
  {
    name: 'IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT',
    code: IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT,
    function: 0x04,
    method: METHOD_IN_DIRECT,
    input: PIPE_ID,
    output: { kind: 'any', what: 'data to send to the host (+ ZLP if a multiple of wMaxPacketSize)' },
    outputAccess: 'read',
    completes: 'pending',
  },
  {
    name: 'IOCTL_GENERICUSBFN_TRANSFER_OUT',
    code: IOCTL_GENERICUSBFN_TRANSFER_OUT,
    function: 0x05,
    method: METHOD_OUT_DIRECT,
    input: PIPE_ID,
    output: { kind: 'any', what: 'buffer receiving host data' },
    outputAccess: 'write',
    completes: 'pending',
  },
  {
    name: 'IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN',
    code: IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN,
    function: 0x06,
    method: METHOD_BUFFERED,
    input: PIPE_ID,
    output: NONE,
    outputAccess: 'none',
    completes: 'pending',
  },
  {
    name: 'IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT',
    code: IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT,
    function: 0x07,
    method: METHOD_BUFFERED,
    input: PIPE_ID,
    output: NONE,
    outputAccess: 'none',
    completes: 'pending',
  },
  {
    name: 'IOCTL_GENERICUSBFN_GET_CLASS_INFO',
    code: IOCTL_GENERICUSBFN_GET_CLASS_INFO,
    function: 0x08,
    method: METHOD_OUT_DIRECT,
    input: NONE,
    output: { kind: 'atLeast', bytes: 748, struct: 'USBFN_CLASS_INFORMATION_PACKET' },
    outputAccess: 'write',
    completes: 'immediate',
  },
  {
    name: 'IOCTL_GENERICUSBFN_GET_PIPE_STATE',
    code: IOCTL_GENERICUSBFN_GET_PIPE_STATE,
    function: 0x09,
    method: METHOD_OUT_DIRECT,
    input: PIPE_ID,
    output: { kind: 'atLeast', bytes: 1, struct: 'BOOLEAN' },
    outputAccess: 'write',
    completes: 'immediate',
  },
  {
    name: 'IOCTL_GENERICUSBFN_SET_PIPE_STATE',
    code: IOCTL_GENERICUSBFN_SET_PIPE_STATE,
    function: 0x0a,
    method: METHOD_IN_DIRECT,
    input: PIPE_ID,
    // The new state travels in the *output* buffer, which IN_DIRECT makes driver-readable (docs/reference/ioctls.md#methods).
    output: { kind: 'atLeast', bytes: 1, struct: 'BOOLEAN' },
    outputAccess: 'read',
    completes: 'immediate',
  },
  {
    name: 'IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS',
    code: IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS,
    function: 0x0b,
    method: METHOD_BUFFERED,
    input: NONE,
    output: NONE,
    outputAccess: 'none',
    completes: 'immediate',
  },
  {
    name: 'IOCTL_GENERICUSBFN_DEACTIVATE_USB_BUS',
    code: IOCTL_GENERICUSBFN_DEACTIVATE_USB_BUS,
    function: 0x0c,
    method: METHOD_BUFFERED,
    input: NONE,
    output: NONE,
    outputAccess: 'none',
    completes: 'immediate',
  },
  {
    name: 'IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION',
    code: IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION,
    function: 0x0d,
    method: METHOD_OUT_DIRECT,
    input: NONE,
    // Doc defect: the user-mode IOCTL page lists the output as NULL; its prose and the kernel twin say USBFN_NOTIFICATION
    // (docs/reference/ioctls.md#bus-event-notification).
    output: { kind: 'atLeast', bytes: 12, struct: 'USBFN_NOTIFICATION' },
    outputAccess: 'write',
    completes: 'pending',
  },
  {
    name: 'IOCTL_GENERICUSBFN_GET_CLASS_INFO_EX',
    code: IOCTL_GENERICUSBFN_GET_CLASS_INFO_EX,
    function: 0x0e,
    method: METHOD_OUT_DIRECT,
    input: NONE,
    output: { kind: 'atLeast', bytes: 748, struct: 'USBFN_CLASS_INFORMATION_PACKET_EX' },
    outputAccess: 'write',
    completes: 'immediate',
  },
  {
    name: 'IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET',
    code: IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET,
    function: 0x0f,
    method: METHOD_OUT_DIRECT,
    input: { kind: 'atLeast', bytes: 12, struct: 'USBFN_INTERFACE_INFO' },
    output: { kind: 'atLeast', bytes: 12, struct: 'USBFN_INTERFACE_INFO' },
    outputAccess: 'write',
    completes: 'immediate',
  },
  {
    name: 'IOCTL_GENERICUSBFN_REGISTER_USB_STRING',
    code: IOCTL_GENERICUSBFN_REGISTER_USB_STRING,
    function: 0x10,
    method: METHOD_IN_DIRECT,
    input: { kind: 'atLeast', bytes: 512, struct: 'USBFN_USB_STRING' },
    output: NONE,
    outputAccess: 'none',
    completes: 'immediate',
  },
];

const INFO_BY_CODE: ReadonlyMap<number, IoctlInfo> = new Map(IOCTL_TABLE.map((i) => [i.code, i] as const));

/** The {@link IoctlInfo} of a GenericUSBFn IOCTL code, or `undefined` for any other code. */
export function ioctlInfo(code: number): IoctlInfo | undefined {
  return INFO_BY_CODE.get(code >>> 0);
}

/**
 * The genericusbfnioctl.h name of an IOCTL code, or `IOCTL_0x????????` (8 upper-case hex digits) for an
 * unknown code.
 */
export function ioctlName(code: number): string {
  return INFO_BY_CODE.get(code >>> 0)?.name ?? `IOCTL_0x${(code >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}
