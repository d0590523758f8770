import { describe, expect, it } from 'vitest';
import { UsageError } from '../../core/index.js';
import { IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, IOCTL_GENERICUSBFN_GET_CLASS_INFO } from '../abi/index.js';
import { parseDeviceTrace } from './trace-reader.js';

const HEADER = {
  kind: 'header',
  format: 'usbfn-hil-device-trace',
  version: 2,
  backend: 'sim',
  os: 'linux 6 x64',
  node: 'v20',
  timeBase: 'port-clock-ms',
  clockStartMs: 0,
  startedAt: '2026-12-06T00:00:00.000Z',
  maxDataBytes: 4096,
};
const OPEN = { kind: 'open', submitSeq: 1, submitMs: 0, seq: 2, completeMs: 0, symbolicLink: '\\\\?\\X', handle: 1, win32: 0, win32Name: 'ERROR_SUCCESS' };
const EVENT = {
  kind: 'ioctl',
  submitSeq: 3,
  submitMs: 0,
  seq: 4,
  completeMs: 1,
  handle: 1,
  code: IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION,
  name: 'IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION',
  input: null,
  outputSize: 12,
  bytesReturned: 12,
  output: '010000000000000000000000',
  win32: 0,
  win32Name: 'ERROR_SUCCESS',
};
const REG = { kind: 'cmRegister', submitSeq: 3, submitMs: 0, seq: 4, completeMs: 0, registration: 'r1', filter: 'deviceHandle', target: 1, cr: 0, crName: 'CR_SUCCESS' };
const QUERY_REMOVE = { kind: 'cm', seq: 5, returnSeq: 7, timeMs: 1, registration: 'r1', filter: 'deviceHandle', action: 2, actionName: 'CM_NOTIFY_ACTION_DEVICEQUERYREMOVE', eventDataSize: 36, eventData: '', result: 0 };
/** The CloseHandle the callback made (submitSeq 6, inside 5..7), completed after it returned. */
const CLOSE = { kind: 'close', submitSeq: 6, submitMs: 1, seq: 8, completeMs: 1, handle: 1, win32: 0, win32Name: 'ERROR_SUCCESS' };
const text = (...lines: object[]): string => lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
const problem = (t: string): string => {
  try {
    parseDeviceTrace(t);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect(err).toMatchObject({ code: 'TRACE_INVALID' });
    return (err as Error).message;
  }
  throw new Error('expected TRACE_INVALID');
};

describe('parseDeviceTrace (docs/reference/device-trace.md)', () => {
  it('reads a valid trace with its line numbers; a trace without an end line is unfinished', () => {
    const trace = parseDeviceTrace(text(HEADER, OPEN, {}).replace('{}\n', '\n') + JSON.stringify(EVENT) + '\n');
    expect(trace.header.backend).toBe('sim');
    expect(trace.lines.map((l) => l.kind)).toEqual(['open', 'ioctl']);
    expect(trace.lineNumbers).toEqual([2, 4]);
    expect(trace.finished).toBe(false);
    expect(parseDeviceTrace(text(HEADER, OPEN, { kind: 'end', seq: 3, timeMs: 1, pending: 0 })).finished).toBe(true);
  });

  it('reads a notification whose callback made a call before it returned (returnSeq), written when it returned', () => {
    const trace = parseDeviceTrace(text(HEADER, OPEN, REG, QUERY_REMOVE, CLOSE));
    expect(trace.lines.map((l) => l.kind)).toEqual(['open', 'cmRegister', 'cm', 'close']);
    expect(trace.lines[2]).toMatchObject({ seq: 5, returnSeq: 7 });
  });

  it('reads version 1, whose notifications have no returnSeq', () => {
    const { returnSeq: _, ...v1 } = QUERY_REMOVE;
    const trace = parseDeviceTrace(text({ ...HEADER, version: 1 }, OPEN, REG, v1, { ...CLOSE, seq: 7 }));
    expect(trace.header.version).toBe(1);
    expect(trace.lines[2]).not.toHaveProperty('returnSeq');
  });

  it.each([
    ['an empty file', '', /line 1: the trace is empty/],
    ['no header', text(OPEN), /line 1: the first line is not a device trace header/],
    ['another version', text({ ...HEADER, version: 3 }), /version 3 is not supported\. This usbfn-hil reads versions 1 and 2/],
    ['not JSON', text(HEADER) + '{oops\n', /line 2: not JSON/],
    ['an unknown kind', text(HEADER, { kind: 'mystery', seq: 1 }), /line 2: unknown line kind "mystery"/],
    ['a schema violation', text(HEADER, { ...OPEN, symbolicLink: 7 }), /line 2: bad 'open' line: \/symbolicLink/],
    ['upper-case hex', text(HEADER, OPEN, { ...EVENT, output: '0A0000000000000000000000' }), /line 3: bad 'ioctl' line: \/output/],
    ['a handle never opened', text(HEADER, { ...EVENT, submitSeq: 1, seq: 2 }), /handle 1 was never opened/],
    ['decreasing seq', text(HEADER, OPEN, { ...EVENT, submitSeq: 0, seq: 1 }), /seq 1 does not increase/],
    ['a reused seq', text(HEADER, OPEN, { ...EVENT, submitSeq: 2, seq: 5 }), /seq 2 is used twice/],
    ['a completion before the submission', text(HEADER, OPEN, { ...EVENT, submitMs: 5, completeMs: 1 }), /completeMs 1 is before submitMs 5/],
    ['a code and name that disagree', text(HEADER, OPEN, { ...EVENT, code: IOCTL_GENERICUSBFN_GET_CLASS_INFO }), /is IOCTL_GENERICUSBFN_GET_CLASS_INFO, not IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION/],
    ['bytes returned on a failure', text(HEADER, OPEN, { ...EVENT, win32: 31, win32Name: 'ERROR_GEN_FAILURE' }), /bytesReturned must be a number exactly when/],
    ['more bytes returned than the buffer', text(HEADER, OPEN, { ...EVENT, bytesReturned: 13 }), /bytesReturned 13 exceeds outputSize 12/],
    ['output that does not match bytesReturned', text(HEADER, OPEN, { ...EVENT, bytesReturned: 8 }), /output holds 12 bytes but bytesReturned is 8/],
    ['a notification for an unknown registration', text(HEADER, { kind: 'cm', seq: 1, timeMs: 0, registration: 'r9', filter: 'deviceHandle', action: 5, actionName: 'X', eventDataSize: 36, eventData: '', result: 0 }), /registration r9 was never registered/],
    ['a version-2 notification without returnSeq', text(HEADER, OPEN, REG, { ...QUERY_REMOVE, returnSeq: undefined }), /line 4: a notification without returnSeq/],
    ['returnSeq in a version-1 trace', text({ ...HEADER, version: 1 }, OPEN, REG, QUERY_REMOVE), /line 4: returnSeq in a version-1 trace/],
    ['a callback that returns before it was entered', text(HEADER, OPEN, REG, { ...QUERY_REMOVE, seq: 7, returnSeq: 5 }), /returnSeq 5 is not after seq 7/],
    ['a notification written before its callback returned', text(HEADER, OPEN, REG, { ...CLOSE, seq: 7 }, QUERY_REMOVE), /line 5: returnSeq 7 does not increase \(previous 7\)/],
    ['a returnSeq used twice', text(HEADER, OPEN, REG, { ...QUERY_REMOVE, returnSeq: 6 }, CLOSE), /line 5: seq 6 is used twice/],
    ['a line after the end', text(HEADER, { kind: 'end', seq: 1, timeMs: 0, pending: 0 }, OPEN), /a line after the end line/],
  ])('rejects %s with TRACE_INVALID naming the line', (_what, t, message) => {
    expect(problem(t)).toMatch(message);
  });
});
