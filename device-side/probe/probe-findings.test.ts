import { describe, expect, it } from 'vitest';
import { newObservations, probeFindings, recommendedSettings, type DeviceObservations } from './probe-findings.js';

const ev = (type: string, bytesReturned = 12) => ({ type, bytesReturned, raw: '' });
const reset = (speed: string) => ({ ...ev('reset'), speed });
const pipes = [
  { speed: 'high', pipeId: 1, endpointAddress: 0x01, attributes: 2 },
  { speed: 'high', pipeId: 2, endpointAddress: 0x81, attributes: 2 },
];

/** What the simulator's driver shows (every assumption holds). */
function simLike(): DeviceObservations {
  const o = newObservations();
  o.classInfoBytesReturned = 748;
  o.pipes = pipes;
  o.ep0PipeId = 0;
  // The simulated host enumerates as Linux usbcore: below SuperSpeed it resets twice.
  o.enumerationEvents.push(ev('attach'), reset('high'), reset('high'), ev('configured'));
  o.busEvents.push(ev('attach'), reset('high'), reset('high'), ev('configured'), ev('setupPacket'));
  o.noData.push({ first: 'in', attempts: [{ direction: 'in', outcome: 'ok' }] }, { first: 'out', attempts: [{ direction: 'out', outcome: 'ok' }] });
  o.inData = { length: 64, outcome: 'ok' };
  o.zeroLength.push({ variant: 'null-buffer', outcome: 'ok', bytesReturned: 0 });
  o.secondOpen = { win32: 5, win32Name: 'ERROR_ACCESS_DENIED' };
  return o;
}

const verdicts = (o: DeviceObservations) => Object.fromEntries(probeFindings(o).map((f) => [f.id, f.verdict]));

describe('probe findings (docs/reference/documented-vs-inferred.md)', () => {
  it('confirms every assumption on what the simulator shows, and recommends the matching settings', () => {
    expect(Object.values(verdicts(simLike()))).toEqual(new Array(7).fill('confirmed'));
    expect(recommendedSettings(simLike())).toEqual({ busEventBytes: 'strict', ep0PipeId: 'auto', statusHandshake: 'in', zeroLengthIn: 'null-buffer' });
  });

  it('leaves everything not settled when nothing was observed', () => {
    expect(new Set(Object.values(verdicts(newObservations())))).toEqual(new Set(['not-settled']));
    expect(recommendedSettings(newObservations())).toEqual({});
  });

  it('drv-bytes-returned: refuted by 8-byte bus events, and then the tolerant setting', () => {
    const o = simLike();
    o.busEvents.push(ev('setupPacket', 8));
    expect(verdicts(o)['drv-bytes-returned']).toBe('refuted');
    expect(probeFindings(o).find((f) => f.id === 'drv-bytes-returned')?.observed).toContain('lpBytesReturned 12, 8 over 6 events');
    expect(recommendedSettings(o).busEventBytes).toBe('tolerant');
  });

  it('drv-pipe-ids: refuted when PipeArr lists EP0 (its PipeId becomes the setting) or the PipeIds are not 1..n', () => {
    const o = simLike();
    o.pipes = [{ speed: 'high', pipeId: 5, endpointAddress: 0x00, attributes: 0 }, ...pipes];
    expect(verdicts(o)['drv-pipe-ids']).toBe('refuted');
    expect(recommendedSettings(o).ep0PipeId).toBe(5);
    const p = simLike();
    p.pipes = [{ ...pipes[0]!, pipeId: 3 }, pipes[1]!];
    expect(verdicts(p)['drv-pipe-ids']).toBe('refuted');
  });

  it('drv-no-data-handshake: refuted when one direction is refused; the other is recommended', () => {
    const o = simLike();
    o.noData[0] = { first: 'in', attempts: [{ direction: 'in', outcome: 'ERROR_INVALID_PARAMETER' }, { direction: 'out', outcome: 'ok' }] };
    expect(verdicts(o)['drv-no-data-handshake']).toBe('refuted');
    expect(recommendedSettings(o).statusHandshake).toBe('out');
    const t = simLike();
    t.noData[1] = { first: 'out', attempts: [{ direction: 'out', outcome: 'timeout' }, { direction: 'in', outcome: 'ok' }] };
    expect(verdicts(t)['drv-no-data-handshake']).toBe('refuted');
    expect(recommendedSettings(t).statusHandshake).toBe('in');
    const one = simLike();
    one.noData.pop();
    expect(verdicts(one)['drv-no-data-handshake']).toBe('not-settled');
  });

  it('link-zero-length-in: refuted when the NULL-buffer request fails; the variant that worked is recommended', () => {
    const o = simLike();
    o.zeroLength.splice(0, 1, { variant: 'null-buffer', outcome: 'ERROR_INSUFFICIENT_BUFFER' }, { variant: 'empty-buffer', outcome: 'ok', bytesReturned: 0 });
    expect(verdicts(o)['link-zero-length-in']).toBe('refuted');
    expect(recommendedSettings(o).zeroLengthIn).toBe('empty-buffer');
  });

  it.each([
    [5, 'ERROR_ACCESS_DENIED', 'confirmed'],
    [0, 'ERROR_SUCCESS', 'refuted'],
    [32, 'ERROR_SHARING_VIOLATION', 'refuted'],
  ] as const)('drv-exclusive-open: a second open ending %i is %s', (win32, win32Name, verdict) => {
    const o = simLike();
    o.secondOpen = { win32, win32Name };
    expect(verdicts(o)['drv-exclusive-open']).toBe(verdict);
  });

  it('drv-enumeration-events: two resets below SuperSpeed, one at SuperSpeed; refuted by one reset too few or many, or suspend noise; not settled without Configured', () => {
    expect(probeFindings(simLike()).find((f) => f.id === 'drv-enumeration-events')?.observed).toBe('events up to Configured: attach, reset, reset, configured (high speed)');
    const once = simLike();
    once.enumerationEvents.splice(2, 1);
    expect(verdicts(once)['drv-enumeration-events']).toBe('refuted');
    expect(probeFindings(once).find((f) => f.id === 'drv-enumeration-events')?.observed).toBe('events up to Configured: attach, reset, configured (high speed)');
    const thrice = simLike();
    thrice.enumerationEvents.splice(2, 0, reset('high'));
    expect(verdicts(thrice)['drv-enumeration-events']).toBe('refuted');
    const suspend = simLike();
    suspend.enumerationEvents.splice(1, 0, ev('suspend'));
    expect(verdicts(suspend)['drv-enumeration-events']).toBe('refuted');
    const superSpeed = simLike();
    superSpeed.enumerationEvents.splice(1, 2, reset('super'));
    expect(verdicts(superSpeed)['drv-enumeration-events']).toBe('confirmed');
    superSpeed.enumerationEvents.splice(1, 0, reset('super'));
    expect(verdicts(superSpeed)['drv-enumeration-events']).toBe('refuted');
    const n = simLike();
    n.enumerationEvents.pop();
    expect(verdicts(n)['drv-enumeration-events']).toBe('not-settled');
  });

  it('drv-early-ioctls: refuted when GET_CLASS_INFO before ACTIVATE fails', () => {
    const o = newObservations();
    o.classInfoError = 'ERROR_BAD_COMMAND';
    expect(verdicts(o)['drv-early-ioctls']).toBe('refuted');
  });
});
