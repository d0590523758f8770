import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TraceLine } from '../../device-side/index.js';
import { editTrace, recordProbePairTrace } from '../testing/index.js';
import { createTraceCommand } from './trace-command.js';

let probeTrace: string;
let dir: string;
beforeAll(async () => {
  probeTrace = await recordProbePairTrace(33);
  dir = mkdtempSync(join(tmpdir(), 'usbfn-hil-trace-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const firstHandshakeIn = (lines: TraceLine[]): TraceLine => lines.find((l) => l.kind === 'ioctl' && l.name === 'IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN')!;

describe('usbfn-hil trace check', () => {
  it('usbfn-hil trace check: exit 0 on a conformant trace, 1 on a divergence, a usage error for a bad trace or arguments', async () => {
    const lines: string[] = [];
    const command = createTraceCommand((l) => lines.push(l));
    const good = join(dir, 'good.jsonl');
    writeFileSync(good, probeTrace);
    await expect(command.run(['check', good])).resolves.toBe(0);
    expect(lines.at(-1)).toBe('result: the trace and the simulator agree');
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, editTrace(probeTrace, (l) => Object.assign(firstHandshakeIn(l), { win32: 87, win32Name: 'ERROR_INVALID_PARAMETER', bytesReturned: null })));
    await expect(command.run(['check', bad, '--seed', '7'])).resolves.toBe(1);
    expect(lines.at(-1)).toBe('result: 1 divergence (drv-no-data-handshake)');
    const broken = join(dir, 'broken.jsonl');
    writeFileSync(broken, '{"kind":"open"}\n');
    await expect(command.run(['check', broken])).rejects.toMatchObject({ code: 'TRACE_INVALID' });
    await expect(command.run(['check', join(dir, 'missing.jsonl')])).rejects.toThrow(/cannot read/);
    await expect(command.run(['verify', good])).rejects.toThrow(/usbfn-hil trace check <trace.jsonl>/);
  });
});
