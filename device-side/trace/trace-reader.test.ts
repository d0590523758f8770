import { describe, expect, it } from 'vitest';
import { UsageError } from '../../core/index.js';
import { IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, IOCTL_GENERICUSBFN_GET_CLASS_INFO } from '../abi/index.js';
import { parseDeviceTrace } from './trace-reader.js';

const HEADER = {
  kind: 'header',
  format: 'usbfn-hil-device-trace',
  version: 1,
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

  it.each([
    ['an empty file', '', /line 1: the trace is empty/],
    ['no header', text(OPEN), /line 1: the first line is not a device trace header/],
    ['another version', text({ ...HEADER, version: 2 }), /version 2 is not supported/],
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
    ['a line after the end', text(HEADER, { kind: 'end', seq: 1, timeMs: 0, pending: 0 }, OPEN), /a line after the end line/],
  ])('rejects %s with TRACE_INVALID naming the line', (_what, t, message) => {
    expect(problem(t)).toMatch(message);
  });
});
