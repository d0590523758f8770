/**
 * Reads and checks a device trace (trace-format.ts): the header, every line against the schema of its kind,
 * and what the schema cannot say (sequence numbers, times, the IOCTL name of a code, byte counts against
 * buffer sizes, handles and registrations that exist). Every problem is a `UsageError TRACE_INVALID`
 * naming the line, the field and how to fix it; nothing is guessed.
 *
 * @see docs/reference/device-trace.md
 */
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { UsageError } from '../../core/index.js';
import { ioctlInfo, ioctlName } from '../abi/index.js';
import {
  DEVICE_TRACE_FORMAT,
  DEVICE_TRACE_READABLE_VERSIONS,
  DEVICE_TRACE_VERSION,
  TRACE_LINE_SCHEMAS,
  TraceHeader,
  type TraceLine,
  type TraceLineKind,
} from './trace-format.js';

/** A parsed trace: the header, and the lines with their line numbers (1-based, the header is line 1). */
export interface DeviceTrace {
  readonly header: TraceHeader;
  readonly lines: readonly TraceLine[];
  /** `lineNumbers[i]` is the file line of `lines[i]`. */
  readonly lineNumbers: readonly number[];
  /** False when the trace has no `end` line (the recording was cut off). */
  readonly finished: boolean;
}

const headerCheck = TypeCompiler.Compile(TraceHeader);
const lineChecks = Object.fromEntries(Object.entries(TRACE_LINE_SCHEMAS).map(([kind, schema]) => [kind, TypeCompiler.Compile(schema)])) as Record<
  TraceLineKind,
  TypeCheck<(typeof TRACE_LINE_SCHEMAS)[TraceLineKind]>
>;

function invalid(line: number, what: string, fix: string): UsageError {
  return new UsageError('TRACE_INVALID', `device trace line ${line}: ${what}. ${fix}`, { line });
}

function firstError(check: TypeCheck<never>, value: unknown): string {
  const e = check.Errors(value).First();
  return e === undefined ? 'does not match the schema' : `${e.path || '(line)'} ${e.message}`;
}

/**
 * Parses JSON Lines text into a {@link DeviceTrace}. Empty lines are ignored.
 * @throws UsageError TRACE_INVALID for anything that is not a valid device trace of a version this code reads
 * (DEVICE_TRACE_READABLE_VERSIONS).
 */
export function parseDeviceTrace(text: string): DeviceTrace {
  const rows = text.split('\n');
  let header: TraceHeader | undefined;
  const lines: TraceLine[] = [];
  const lineNumbers: number[] = [];
  const handles = new Set<number>();
  const registrations = new Set<string>();
  let lastSeq = 0;
  const seen = new Set<number>();
  let finished = false;
  rows.forEach((raw, i) => {
    const n = i + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw invalid(n, `not JSON (${(err as Error).message})`, 'Each line of a device trace is one JSON object');
    }
    if (header === undefined) {
      const h = value as { kind?: unknown; format?: unknown; version?: unknown };
      if (h?.kind !== 'header' || h.format !== DEVICE_TRACE_FORMAT) {
        throw invalid(n, 'the first line is not a device trace header', `A device trace starts with {"kind":"header","format":"${DEVICE_TRACE_FORMAT}",…}; record one with recordingPort()`);
      }
      if (typeof h.version !== 'number' || !DEVICE_TRACE_READABLE_VERSIONS.includes(h.version)) {
        throw invalid(n, `trace format version ${String(h.version)} is not supported`, `This usbfn-hil reads versions ${DEVICE_TRACE_READABLE_VERSIONS.join(' and ')} (it writes ${DEVICE_TRACE_VERSION}); use the usbfn-hil that recorded it`);
      }
      if (!headerCheck.Check(value)) throw invalid(n, `bad header: ${firstError(headerCheck as TypeCheck<never>, value)}`, 'Fix or re-record the trace');
      header = value as TraceHeader;
      return;
    }
    if (finished) throw invalid(n, 'a line after the end line', 'The end line is the last line of a trace');
    const kind = (value as { kind?: unknown })?.kind;
    const check = typeof kind === 'string' ? lineChecks[kind as TraceLineKind] : undefined;
    if (check === undefined) {
      throw invalid(n, `unknown line kind ${JSON.stringify(kind)}`, `Use one of ${Object.keys(TRACE_LINE_SCHEMAS).join(', ')}`);
    }
    if (!check.Check(value)) throw invalid(n, `bad '${String(kind)}' line: ${firstError(check as TypeCheck<never>, value)}`, 'Fix or re-record the trace');
    const line = value as TraceLine;
    checkLine(line, n, { handles, registrations });
    if (line.kind === 'cm') checkReturn(line, n, header.version);
    // Sequence numbers: lines are written at completion (a notification when its callback returned), in
    // increasing order of that seq; each seq is used once.
    const written = line.kind === 'cm' ? (line.returnSeq ?? line.seq) : line.seq;
    if (written <= lastSeq) throw invalid(n, `${line.kind === 'cm' && line.returnSeq !== undefined ? 'returnSeq' : 'seq'} ${written} does not increase (previous ${lastSeq})`, 'Lines are written in the order they completed');
    lastSeq = written;
    const seqs = 'submitSeq' in line ? [line.submitSeq, line.seq] : line.kind === 'cm' && line.returnSeq !== undefined ? [line.seq, line.returnSeq] : [line.seq];
    for (const s of seqs) {
      if (seen.has(s)) throw invalid(n, `seq ${s} is used twice`, 'Every submission and completion has its own seq');
      seen.add(s);
    }
    if (line.kind === 'end') finished = true;
    lines.push(line);
    lineNumbers.push(n);
  });
  if (header === undefined) throw invalid(1, 'the trace is empty', 'Record a trace with recordingPort() or usbfn-hil device probe');
  return { header, lines, lineNumbers, finished };
}

/** A notification's `returnSeq`: present from version 2 on (absent before), after the callback was entered. */
function checkReturn(line: TraceLine & { kind: 'cm' }, n: number, version: number): void {
  if (version < 2) {
    if (line.returnSeq !== undefined) throw invalid(n, 'returnSeq in a version-1 trace', 'Version 1 has no returnSeq; give the header version 2');
    return;
  }
  if (line.returnSeq === undefined) throw invalid(n, 'a notification without returnSeq', 'From version 2 on a cm line has the seq of its callback\'s return');
  if (line.returnSeq <= line.seq) throw invalid(n, `returnSeq ${line.returnSeq} is not after seq ${line.seq}`, 'A callback returns after it was entered');
}

/** The checks a schema cannot express. */
function checkLine(line: TraceLine, n: number, known: { handles: Set<number>; registrations: Set<string> }): void {
  if ('submitSeq' in line) {
    if (line.submitSeq >= line.seq) throw invalid(n, `submitSeq ${line.submitSeq} is not before seq ${line.seq}`, 'A call completes after it was made');
    if (line.completeMs < line.submitMs) throw invalid(n, `completeMs ${line.completeMs} is before submitMs ${line.submitMs}`, 'A call completes after it was made');
  }
  const failed = 'win32' in line || 'cr' in line || 'error' in line;
  const ok = (line as { win32?: number }).win32 === 0 || (line as { cr?: number }).cr === 0;
  switch (line.kind) {
    case 'open':
      if (!failed) throw invalid(n, 'an open line without an outcome (win32)', 'Give win32 0 for success or the Win32 error');
      if (ok !== (line.handle !== null)) throw invalid(n, 'handle must be a number exactly when the open succeeded', 'Give handle null for a failed CreateFileW');
      if (line.handle !== null) {
        if (known.handles.has(line.handle)) throw invalid(n, `handle ${line.handle} opened twice`, 'Number each opened handle once');
        known.handles.add(line.handle);
      }
      return;
    case 'close':
    case 'ioctl':
      if (!known.handles.has(line.handle)) throw invalid(n, `handle ${line.handle} was never opened in this trace`, 'An open line must come first');
      if (line.kind === 'ioctl') checkIoctl(line, n);
      return;
    case 'cmRegister':
      if (ok !== (line.registration !== null)) throw invalid(n, 'registration must be named exactly when the registration succeeded', 'Give registration null for a failed CM_Register_Notification');
      if (line.registration !== null) known.registrations.add(line.registration);
      return;
    case 'cmUnregister':
    case 'cm':
      if (!known.registrations.has(line.registration)) throw invalid(n, `registration ${line.registration} was never registered in this trace`, 'A cmRegister line must come first');
      if (line.kind === 'cm' && line.eventData.length / 2 > line.eventDataSize) {
        throw invalid(n, `eventData holds ${line.eventData.length / 2} bytes, more than eventDataSize ${line.eventDataSize}`, 'eventData is the callback\'s EventDataSize bytes');
      }
      return;
    default:
      return;
  }
}

function checkIoctl(line: TraceLine & { kind: 'ioctl' }, n: number): void {
  if (ioctlInfo(line.code) !== undefined && ioctlName(line.code) !== line.name) {
    throw invalid(n, `code 0x${line.code.toString(16)} is ${ioctlName(line.code)}, not ${line.name}`, 'Keep name and code consistent');
  }
  const succeeded = line.win32 === 0;
  if (!succeeded && line.win32 === undefined && line.error === undefined) throw invalid(n, 'an ioctl line without an outcome', 'Give win32 (0 for success) or error');
  if (succeeded !== (line.bytesReturned !== null)) {
    throw invalid(n, 'bytesReturned must be a number exactly when the IOCTL succeeded (win32 0)', 'Give bytesReturned null for a failed request');
  }
  if (line.bytesReturned !== null && line.outputSize !== null && line.bytesReturned > line.outputSize) {
    throw invalid(n, `bytesReturned ${line.bytesReturned} exceeds outputSize ${line.outputSize}`, 'lpBytesReturned cannot exceed nOutBufferSize');
  }
  const bytes = (hex: string | null | undefined): number => (hex == null ? 0 : hex.length / 2);
  if (line.outputSize === null && (line.output !== null || line.outputData !== undefined)) {
    throw invalid(n, 'output bytes for a request without an output buffer', 'Give output null when outputSize is null');
  }
  if (line.outputSize !== null && (bytes(line.output) > line.outputSize || bytes(line.outputData) > line.outputSize)) {
    throw invalid(n, `more output bytes than outputSize ${line.outputSize}`, 'output is at most the buffer');
  }
  if (line.dataTruncated !== true && succeeded && line.output !== null && bytes(line.output) !== line.bytesReturned) {
    throw invalid(n, `output holds ${bytes(line.output)} bytes but bytesReturned is ${line.bytesReturned}`, 'On success output is the first bytesReturned bytes (or set dataTruncated)');
  }
}
