/**
 * `usbfn-hil trace check` on traces the simulator records itself (the first-light probe pair, and the
 * service with the loopback function under bulk traffic): they replay without a divergence. Then on edited
 * copies, each kind of divergence is reported under the assumption id it refutes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseDeviceTrace, type TraceLine } from '../../device-side/index.js';
import { editTrace as edited, recordLoopbackTrace, recordProbePairTrace, recordRemovalTrace } from '../testing/index.js';
import { checkTrace, formatTraceCheck, type TraceCheckReport } from './trace-check.js';

let probeTrace: string;
let loopbackTrace: string;
let removalTrace: string;
beforeAll(async () => {
  probeTrace = await recordProbePairTrace(31);
  loopbackTrace = await recordLoopbackTrace(32);
  removalTrace = await recordRemovalTrace(34);
});

type Ioctl = TraceLine & { kind: 'ioctl' };
const ioctls = (lines: TraceLine[], name: string): Ioctl[] => lines.filter((l): l is Ioctl => l.kind === 'ioctl' && l.name === `IOCTL_GENERICUSBFN_${name}`);
const busEvents = (lines: TraceLine[]): Ioctl[] => ioctls(lines, 'BUS_EVENT_NOTIFICATION').filter((l) => l.bytesReturned !== null);
const divergent = (r: TraceCheckReport) => r.checks.filter((c) => c.divergences.length > 0).map((c) => ({ id: c.id, divergences: c.divergences.map((d) => ({ kind: d.kind, what: d.what, trace: d.trace, simulator: d.simulator })) }));

describe('trace check (docs/reference/device-trace.md#trace-check)', () => {
  it('finds no divergence in a trace of the probe pair, confirming the assumptions the probe touches', async () => {
    const report = await checkTrace(probeTrace);
    expect(report.divergences).toBe(0);
    const confirmed = report.checks.map((c) => c.id);
    for (const id of ['drv-bytes-returned', 'drv-exclusive-open', 'drv-no-data-handshake', 'drv-enumeration-events', 'drv-pipe-ids', 'link-zero-length-in']) expect(confirmed).toContain(id);
    expect(report.checks.find((c) => c.id === 'drv-bytes-returned')!.agreed).toBeGreaterThanOrEqual(13);
  });

  it('finds no divergence in a trace of the service with the loopback function under bulk traffic', async () => {
    const report = await checkTrace(loopbackTrace);
    expect(divergent(report)).toEqual([]);
    expect(report.checks.reduce((n, c) => n + c.agreed, 0)).toBeGreaterThan(50);
  });

  it.each([1, 2, 3])('finds no divergence in a trace of arrival, surprise removal, re-arrival and query-remove (PnP actions derived from the notifications; replay seed %i)', async (seed) => {
    const report = await checkTrace(removalTrace, { seed });
    expect(divergent(report)).toEqual([]);
    const ids = ['cm-arrival-order', 'cm-removal-order', 'cm-handle-event-data', 'cm-open-handle-veto', 'cm-unregister-late-delivery', 'drv-removed-while-open', 'drv-detach-event'];
    for (const id of ids) expect(report.checks.map((c) => c.id)).toContain(id);
  });

  it('replays the CloseHandle the DEVICEQUERYREMOVE callback made before it returned inside the replayed callback: the handle counts as closed', async () => {
    const lines = parseDeviceTrace(removalTrace).lines;
    const query = lines.find((l): l is TraceLine & { kind: 'cm' } => l.kind === 'cm' && l.actionName === 'CM_NOTIFY_ACTION_DEVICEQUERYREMOVE')!;
    const close = lines.find((l) => l.kind === 'close' && l.submitSeq > query.seq && l.submitSeq < query.returnSeq!);
    expect(close).toBeDefined(); // the service closes inside the callback (device-side/service/interface-watcher.ts)
    const report = await checkTrace(removalTrace);
    expect(report.checks.find((c) => c.id === 'cm-open-handle-veto')).toEqual({ id: 'cm-open-handle-veto', agreed: 1, divergences: [] });
  });

  it.each([1, 2, 3])('a CloseHandle made after the DEVICEQUERYREMOVE callback returned, the removal going on all the same: cm-open-handle-veto (replay seed %i)', async (seed) => {
    const report = await checkTrace(
      edited(removalTrace, (lines) => {
        // As if the callback had awaited before closing: the return now comes before the CloseHandle.
        const query = lines.find((l): l is TraceLine & { kind: 'cm' } => l.kind === 'cm' && l.actionName === 'CM_NOTIFY_ACTION_DEVICEQUERYREMOVE')!;
        const close = lines.find((l): l is TraceLine & { kind: 'close' } => l.kind === 'close' && l.submitSeq > query.seq && l.submitSeq < query.returnSeq!)!;
        [query.returnSeq, close.submitSeq] = [close.submitSeq, query.returnSeq!];
      }),
      { seed },
    );
    expect(divergent(report)).toEqual([
      {
        id: 'cm-open-handle-veto',
        divergences: [
          { kind: 'missingEvent', what: 'DEVICEREMOVEPENDING@r3', trace: 'delivered', simulator: 'not delivered' },
          { kind: 'extraEvent', what: 'DEVICEQUERYREMOVEFAILED@r3', trace: 'not in the trace', simulator: 'delivered' },
        ],
      },
      // What follows from the veto: the device is not removed.
      { id: 'cm-removal-order', divergences: [{ kind: 'missingEvent', what: 'DEVICEINTERFACEREMOVAL@r1', trace: 'delivered', simulator: 'not delivered' }] },
    ]);
  });

  it('a different order of removal notifications: cm-removal-order', async () => {
    const report = await checkTrace(
      edited(removalTrace, (lines) => {
        // The interface removal reported before the handle's REMOVEPENDING.
        const cm = lines.filter((l): l is TraceLine & { kind: 'cm' } => l.kind === 'cm');
        const pending = cm.find((l) => l.actionName === 'CM_NOTIFY_ACTION_DEVICEREMOVEPENDING')!;
        const removal = cm.filter((l) => l.actionName === 'CM_NOTIFY_ACTION_DEVICEINTERFACEREMOVAL').at(-1)!;
        for (const k of ['registration', 'filter', 'action', 'actionName', 'eventData', 'eventDataSize', 'result', 'resultName'] as const) {
          [(pending as Record<string, unknown>)[k], (removal as Record<string, unknown>)[k]] = [(removal as Record<string, unknown>)[k], (pending as Record<string, unknown>)[k]];
        }
      }),
    );
    const [check] = divergent(report);
    expect(check?.id).toBe('cm-removal-order');
    expect(check?.divergences).toEqual([
      expect.objectContaining({ kind: 'eventOrder', trace: expect.stringContaining('DEVICEINTERFACEREMOVAL@r1, DEVICEREMOVEPENDING@r3'), simulator: expect.stringContaining('DEVICEREMOVEPENDING@r3, DEVICEINTERFACEREMOVAL@r1') }),
    ]);
  });

  it('a bus event the trace lacks is an extra event (the first of the two Resets recorded as a second Configured)', async () => {
    const report = await checkTrace(
      edited(probeTrace, (lines) => {
        const [, reset, , configured] = busEvents(lines);
        reset!.output = configured!.output;
      }),
    );
    const [check] = divergent(report);
    expect(check?.id).toBe('drv-enumeration-events');
    expect(check?.divergences.map((d) => [d.kind, d.what])).toEqual([
      ['missingEvent', 'bus event configured'],
      ['extraEvent', 'bus event reset (handle 1)'],
    ]);
  });

  it('bytes returned 8 instead of 12: drv-bytes-returned', async () => {
    const report = await checkTrace(
      edited(probeTrace, (lines) => {
        const reset = busEvents(lines)[1]!;
        reset.bytesReturned = 8;
        reset.output = reset.output!.slice(0, 16);
      }),
    );
    expect(divergent(report)).toEqual([{ id: 'drv-bytes-returned', divergences: [{ kind: 'bytesReturned', what: 'BUS_EVENT_NOTIFICATION (reset) bytesReturned', trace: '8', simulator: '12' }] }]);
  });

  it('a second open that succeeds: drv-exclusive-open', async () => {
    const report = await checkTrace(
      edited(probeTrace, (lines) => {
        const second = lines.filter((l) => l.kind === 'open')[1] as TraceLine & { kind: 'open' };
        Object.assign(second, { win32: 0, win32Name: 'ERROR_SUCCESS', handle: 2 });
      }),
    );
    expect(divergent(report)).toEqual([
      {
        id: 'drv-exclusive-open',
        divergences: [{ kind: 'status', what: 'CreateFileW while another handle is open status', trace: 'ERROR_SUCCESS(0)', simulator: 'ERROR_ACCESS_DENIED(5)' }],
      },
    ]);
  });

  it('HANDSHAKE_IN rejected for a no-data request: drv-no-data-handshake', async () => {
    const report = await checkTrace(
      edited(probeTrace, (lines) => {
        Object.assign(ioctls(lines, 'CONTROL_STATUS_HANDSHAKE_IN')[0]!, { win32: 87, win32Name: 'ERROR_INVALID_PARAMETER', bytesReturned: null });
      }),
    );
    expect(divergent(report)).toEqual([
      {
        id: 'drv-no-data-handshake',
        divergences: [{ kind: 'status', what: 'CONTROL_STATUS_HANDSHAKE_IN status', trace: 'ERROR_INVALID_PARAMETER(87)', simulator: 'ERROR_SUCCESS(0)' }],
      },
    ]);
  });

  it('a different event order (Configured before the Resets): drv-enumeration-events', async () => {
    const report = await checkTrace(
      edited(probeTrace, (lines) => {
        const [, reset, , configured] = busEvents(lines);
        [reset!.output, configured!.output] = [configured!.output, reset!.output];
      }),
    );
    const [check] = divergent(report);
    expect(check?.id).toBe('drv-enumeration-events');
    expect(check?.divergences).toEqual([expect.objectContaining({ kind: 'eventOrder', trace: expect.stringContaining('(attach, configured, reset, reset, setupPacket'), simulator: expect.stringContaining('(attach, reset, reset, configured, setupPacket') })]);
  });

  it('a host that resets once (the second Reset gone from the trace): the simulator\'s second Reset is an extra event under drv-enumeration-events', async () => {
    const report = await checkTrace(
      edited(probeTrace, (lines) => {
        const [, , second] = busEvents(lines);
        lines.splice(lines.indexOf(second!), 1);
      }),
    );
    const [check, ...rest] = divergent(report);
    expect(check).toEqual({ id: 'drv-enumeration-events', divergences: [{ kind: 'extraEvent', what: 'bus event reset (handle 1)', trace: 'not in the trace', simulator: '{"type":"reset","busSpeed":2}' }] });
    // With one request fewer outstanding, the trace's last one (cancelled at the end) is still waiting in the replay.
    expect(rest).toEqual([{ id: 'drv-purge-cancelled', divergences: [expect.objectContaining({ kind: 'missingCompletion', what: 'BUS_EVENT_NOTIFICATION' })] }]);
  });

  it('a third Reset during enumeration (here in place of the Attach) is a missing event', async () => {
    const report = await checkTrace(
      edited(probeTrace, (lines) => {
        const [attach, reset] = busEvents(lines);
        attach!.output = reset!.output;
      }),
    );
    const [check] = divergent(report);
    expect(check?.id).toBe('drv-enumeration-events');
    // Without an Attach in the trace the cable was in before the handle opened: the simulator's Attach is lost too.
    expect(check?.divergences.map((d) => [d.kind, d.what])).toEqual([['missingEvent', 'bus event reset']]);
  });

  it('other pipe ids in GET_CLASS_INFO: an output divergence under drv-pipe-ids', async () => {
    const report = await checkTrace(
      edited(probeTrace, (lines) => {
        const info = ioctls(lines, 'GET_CLASS_INFO')[0]!;
        info.output = info.output!.slice(0, 24) + '05000000' + info.output!.slice(32); // full speed PipeArr[0].PipeId
      }),
    );
    expect(divergent(report).map((c) => [c.id, c.divergences.map((d) => d.kind)])).toEqual([['drv-pipe-ids', ['output']]]);
  });

  it('a transfer the driver failed where the simulator succeeds: a status divergence on that line (what follows from it is reported too)', async () => {
    const report = await checkTrace(
      edited(loopbackTrace, (lines) => {
        Object.assign(ioctls(lines, 'TRANSFER_IN_APPEND_ZERO_PKT').find((l) => (l.outputSize ?? 0) > 0)!, { win32: 31, win32Name: 'ERROR_GEN_FAILURE', bytesReturned: null });
      }),
    );
    const all = report.checks.flatMap((c) => c.divergences);
    expect(all).toContainEqual(expect.objectContaining({ kind: 'status', what: 'TRANSFER_IN_APPEND_ZERO_PKT status', trace: 'ERROR_GEN_FAILURE(31)', simulator: 'ERROR_SUCCESS(0)' }));
    // The host read that data in the recording's place of the next echo, so that one never completes in the replay.
    expect(all).toContainEqual(expect.objectContaining({ id: 'drv-purge-cancelled', trace: 'ERROR_SUCCESS(0)', simulator: 'ERROR_OPERATION_ABORTED(995)' }));
  });

  it('formats the report by assumption id: ✘ with each divergence, ✔ with the count that agrees', async () => {
    const report = await checkTrace(edited(probeTrace, (lines) => Object.assign(lines.filter((l) => l.kind === 'open')[1]!, { win32: 0, win32Name: 'ERROR_SUCCESS', handle: 2 })));
    const text = formatTraceCheck(report, 'edited.jsonl');
    expect(text[0]).toMatch(/^trace check of edited\.jsonl: \d+ lines from backend sim/);
    expect(text).toContainEqual(expect.stringMatching(/^ {2}✘ drv-exclusive-open +1 of 1 check diverge \(refuted\)$/));
    expect(text).toContainEqual(expect.stringMatching(/^ {6}line \d+: CreateFileW while another handle is open status: trace ERROR_SUCCESS\(0\); simulator ERROR_ACCESS_DENIED\(5\)$/));
    expect(text).toContainEqual(expect.stringMatching(/^ {2}✔ drv-bytes-returned +\d+ checks agree \(confirmed\)$/));
    expect(text.at(-1)).toBe('result: 1 divergence (drv-exclusive-open)');
  });

});
