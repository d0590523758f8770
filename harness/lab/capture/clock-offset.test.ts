import { describe, expect, it } from 'vitest';
import { agentToHostMs, alignDeviceLog, estimateClockOffset } from './clock-offset.js';

describe('estimateClockOffset', () => {
  it('puts the agent stamp at the midpoint of the round trip', () => {
    // Host sent at 1000, got the answer at 1010; the agent said 1505: it runs 500 ms ahead, ± 5 ms.
    expect(estimateClockOffset({ requestStartMs: 1_000, responseEndMs: 1_010, agentNowMs: 1_505 })).toEqual({ offsetMs: 500, uncertaintyMs: 5, roundTripMs: 10 });
    // An agent behind the host gives a negative offset.
    expect(estimateClockOffset({ requestStartMs: 5_000, responseEndMs: 5_004, agentNowMs: 4_802 }).offsetMs).toBe(-200);
  });

  it('trusts the shortest round trip of several', () => {
    const best = estimateClockOffset([
      { requestStartMs: 0, responseEndMs: 100, agentNowMs: 1_090 }, // slow: stamped late in the trip
      { requestStartMs: 200, responseEndMs: 204, agentNowMs: 1_202 },
      { requestStartMs: 300, responseEndMs: 340, agentNowMs: 1_300 },
    ]);
    expect(best).toEqual({ offsetMs: 1_000, uncertaintyMs: 2, roundTripMs: 4 });
  });

  it('rejects samples that cannot be right', () => {
    expect(() => estimateClockOffset([])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => estimateClockOffset({ requestStartMs: 10, responseEndMs: 5, agentNowMs: 7 })).toThrow(/came before the request/);
    expect(() => estimateClockOffset({ requestStartMs: 10, responseEndMs: Number.NaN, agentNowMs: 7 })).toThrow(/finite/);
  });
});

describe('alignDeviceLog', () => {
  const offset = estimateClockOffset({ requestStartMs: 1_700_000_000_000, responseEndMs: 1_700_000_000_010, agentNowMs: 1_700_000_000_505 }); // +500 ms

  it('shifts agent wall-clock times onto the host capture clock (µs)', () => {
    const entries = [
      { seq: 1, wallMs: 1_700_000_001_500, kind: 'activate' },
      { seq: 2, wallMs: 1_700_000_001_500.25, kind: 'busEvent' },
    ];
    const aligned = alignDeviceLog(entries, offset, { captureStartUs: 1_700_000_000_900_000 });
    expect(aligned).toEqual([
      { seq: 1, wallMs: 1_700_000_001_500, kind: 'activate', captureTimeUs: 1_700_000_001_000_000, sinceCaptureStartMs: 100 },
      { seq: 2, wallMs: 1_700_000_001_500.25, kind: 'busEvent', captureTimeUs: 1_700_000_001_000_250, sinceCaptureStartMs: 100.25 },
    ]);
    expect(agentToHostMs(1_700_000_001_500, offset)).toBe(1_700_000_001_000);
  });

  it('uses the session start for entries with only a session-relative time', () => {
    const aligned = alignDeviceLog([{ timeMs: 250, kind: 'open' }], offset, { sessionOpenedAtMs: 1_700_000_001_000 });
    expect(aligned[0]).toMatchObject({ captureTimeUs: 1_700_000_000_750_000, sinceCaptureStartMs: undefined });
    expect(() => alignDeviceLog([{ timeMs: 250 }], offset)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('entry 0 has no agent time') }));
  });
});
