/**
 * The device trace format, version 2: what a device side did at the {@link UsbFnPort} seam, one JSON object
 * per line (JSON Lines). The first line is a {@link TraceHeader}; every other line is one call or
 * notification. Written by {@link recordingPort}, read and checked by {@link parseDeviceTrace}, replayed
 * against the simulator by `usbfn-hil trace check` (docs/reference/device-trace.md).
 *
 * - Every line after the header has a `seq`: one counter over the whole trace, in the order things
 *   happened. An asynchronous call has two: `submitSeq` when it was made and `seq` when it completed, so the
 *   interleaving of submissions and completions (several BUS_EVENT_NOTIFICATIONs outstanding, a transfer
 *   completing while another is submitted) can be rebuilt. A notification has two as well: `seq` when its
 *   callback was entered and `returnSeq` when it returned, so a call made inside the callback (a CloseHandle
 *   in a DEVICEQUERYREMOVE callback) can be told from one made after it returned. Lines are written at
 *   completion (a notification when its callback returned), in the order of those seqs.
 * - Times are milliseconds on the port's clock (`timeBase`), virtual in the simulator, real on a device.
 * - Buffers are lower-case hex, cut to the header's `maxDataBytes` (then `dataTruncated` is set).
 * - A failed call carries the Win32 error (`win32`, `win32Name`) or the CONFIGRET (`cr`, `crName`) it
 *   failed with; any other error (a usage error above the driver) carries `error`.
 *
 * The schemas are TypeBox (JSON Schema), and the TypeScript types are derived from them, so the format is
 * declared once.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** The `format` value of a trace header. */
export const DEVICE_TRACE_FORMAT = 'usbfn-hil-device-trace';
/** The version this code writes. */
export const DEVICE_TRACE_VERSION = 2;
/**
 * The versions this code reads. Version 1 has no `returnSeq` on notification lines: whether a call was made
 * inside a callback or after it returned cannot be told.
 */
export const DEVICE_TRACE_READABLE_VERSIONS: readonly number[] = [1, 2];
/** Default cap on the bytes of one buffer written into a trace (bulk transfers can be megabytes). */
export const DEFAULT_TRACE_MAX_DATA_BYTES = 4096;

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Hex = Type.String({ pattern: '^([0-9a-f]{2})*$', description: 'bytes as lower-case hex' });
const Uint = Type.Integer({ minimum: 0 });
const Ms = Type.Number({ minimum: 0, description: 'ms on the port clock' });

/** An error other than a Win32 error or a CONFIGRET (e.g. a UsageError above the driver). */
const OtherError = Type.Object({ code: Type.String(), message: Type.String() });

/** The outcome fields every call line carries. */
const Outcome = {
  /** 0 on success; the Win32 error otherwise (absent when the call failed with a CONFIGRET or another error). */
  win32: Type.Optional(Uint),
  win32Name: Type.Optional(Type.String()),
  /** CM_* calls: the CONFIGRET (0 = CR_SUCCESS). */
  cr: Type.Optional(Uint),
  crName: Type.Optional(Type.String()),
  error: Type.Optional(OtherError),
};

/** When an asynchronous call was made and when it completed. */
const Timing = {
  submitSeq: Uint,
  submitMs: Ms,
  seq: Uint,
  completeMs: Ms,
};

export const TraceHeader = Type.Object(
  {
    kind: Type.Literal('header'),
    format: Type.Literal(DEVICE_TRACE_FORMAT),
    version: Type.Integer({ minimum: 1 }),
    /** The port implementation: `win32`, `sim`, or another name. */
    backend: Type.String(),
    /** Operating system of the recording process: platform, release, architecture. */
    os: Type.String(),
    /** Node.js version of the recording process. */
    node: Type.String(),
    /** What the `…Ms` fields count: milliseconds on the port's clock. */
    timeBase: Type.Literal('port-clock-ms'),
    /** The port clock's reading when the trace started. */
    clockStartMs: Ms,
    /** Wall-clock time when the trace started (ISO 8601). */
    startedAt: Type.String(),
    /** Cap on the bytes of one buffer in this trace. */
    maxDataBytes: Uint,
  },
  { additionalProperties: true },
);
export type TraceHeader = Static<typeof TraceHeader>;

export const OpenLine = Type.Object({
  kind: Type.Literal('open'),
  ...Timing,
  symbolicLink: Type.String(),
  /** This trace's number for the handle (1, 2, …), or null when CreateFileW failed. */
  handle: Nullable(Uint),
  ...Outcome,
});
export type OpenLine = Static<typeof OpenLine>;

export const CloseLine = Type.Object({ kind: Type.Literal('close'), ...Timing, handle: Uint, ...Outcome });
export type CloseLine = Static<typeof CloseLine>;

export const IoctlLine = Type.Object({
  kind: Type.Literal('ioctl'),
  ...Timing,
  handle: Uint,
  /** The IOCTL code and its genericusbfnioctl.h name. */
  code: Uint,
  name: Type.String(),
  /** lpInBuffer, or null. */
  input: Nullable(Hex),
  /** nOutBufferSize, or null when lpOutBuffer was NULL. */
  outputSize: Nullable(Uint),
  /** What the output buffer held at the call, for METHOD_IN_DIRECT (the driver reads it: data to send, a BOOLEAN). */
  outputData: Type.Optional(Hex),
  /** lpBytesReturned; null when the request failed. */
  bytesReturned: Nullable(Uint),
  /**
   * What the driver wrote: on success the first bytesReturned bytes, on failure the whole buffer (a driver may
   * write and fail); null for METHOD_IN_DIRECT and when there is no output buffer.
   */
  output: Nullable(Hex),
  dataTruncated: Type.Optional(Type.Literal(true)),
  ...Outcome,
});
export type IoctlLine = Static<typeof IoctlLine>;

export const CmFilterKind = Type.Union([Type.Literal('deviceInterface'), Type.Literal('deviceHandle'), Type.Literal('deviceInstance')]);
export type CmFilterKind = Static<typeof CmFilterKind>;

export const CmRegisterLine = Type.Object({
  kind: Type.Literal('cmRegister'),
  ...Timing,
  /** This trace's name for the registration (`r1`, `r2`, …), or null when it failed. */
  registration: Nullable(Type.String()),
  filter: CmFilterKind,
  /** The class GUID, the trace's handle number, or the device instance ID. */
  target: Type.Union([Type.String(), Uint]),
  ...Outcome,
});
export type CmRegisterLine = Static<typeof CmRegisterLine>;

export const CmUnregisterLine = Type.Object({ kind: Type.Literal('cmUnregister'), ...Timing, registration: Type.String(), ...Outcome });
export type CmUnregisterLine = Static<typeof CmUnregisterLine>;

/** One notification Configuration Manager delivered to a registration's callback. */
export const CmNotificationLine = Type.Object({
  kind: Type.Literal('cm'),
  /** When the callback was entered. */
  seq: Uint,
  /**
   * When the callback returned (or threw); version 2 on. A call whose `submitSeq` lies between `seq` and
   * `returnSeq` was made inside the callback, before it returned.
   */
  returnSeq: Type.Optional(Uint),
  timeMs: Ms,
  registration: Type.String(),
  filter: CmFilterKind,
  /** CM_NOTIFY_ACTION value and its cfgmgr32.h name. */
  action: Uint,
  actionName: Type.String(),
  /** The callback's EventDataSize and the raw CM_NOTIFY_EVENT_DATA. */
  eventDataSize: Uint,
  eventData: Hex,
  /** What the callback returned (0 ERROR_SUCCESS, 1223 ERROR_CANCELLED), or null when it threw. */
  result: Nullable(Uint),
  resultName: Type.Optional(Type.String()),
  threw: Type.Optional(Type.String()),
});
export type CmNotificationLine = Static<typeof CmNotificationLine>;

/** CM_Get_Device_Interface_List_SizeW / CM_Get_Device_Interface_ListW. */
export const CmCallLine = Type.Object({
  kind: Type.Literal('cmCall'),
  ...Timing,
  api: Type.Union([Type.Literal('CM_Get_Device_Interface_List_SizeW'), Type.Literal('CM_Get_Device_Interface_ListW')]),
  interfaceClassGuid: Type.String(),
  deviceInstanceId: Type.Optional(Type.String()),
  flags: Type.Optional(Uint),
  /** The buffer size asked for (ListW), in WCHARs. */
  bufferChars: Type.Optional(Uint),
  /** The size reported (SizeW), in WCHARs. */
  size: Type.Optional(Uint),
  /** The symbolic links of the list (ListW). */
  links: Type.Optional(Type.Array(Type.String())),
  ...Outcome,
});
export type CmCallLine = Static<typeof CmCallLine>;

/** A step annotation by the code that drove the port (the probe's steps). Not replayed. */
export const NoteLine = Type.Object({
  kind: Type.Literal('note'),
  seq: Uint,
  timeMs: Ms,
  text: Type.String(),
  data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type NoteLine = Static<typeof NoteLine>;

/** The last line of a trace that was finished (not cut off): how many calls were still outstanding. */
export const EndLine = Type.Object({ kind: Type.Literal('end'), seq: Uint, timeMs: Ms, pending: Uint });
export type EndLine = Static<typeof EndLine>;

export const TraceLine = Type.Union([
  OpenLine,
  CloseLine,
  IoctlLine,
  CmRegisterLine,
  CmUnregisterLine,
  CmNotificationLine,
  CmCallLine,
  NoteLine,
  EndLine,
]);
export type TraceLine = Static<typeof TraceLine>;
export type TraceLineKind = TraceLine['kind'];

/** Schemas by `kind`, for validating one line against the schema its kind names. */
export const TRACE_LINE_SCHEMAS = {
  open: OpenLine,
  close: CloseLine,
  ioctl: IoctlLine,
  cmRegister: CmRegisterLine,
  cmUnregister: CmUnregisterLine,
  cm: CmNotificationLine,
  cmCall: CmCallLine,
  note: NoteLine,
  end: EndLine,
} as const satisfies Record<TraceLineKind, TSchema>;

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** The bytes of a lower-case hex string (validated by the schema before this is called). */
export function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
