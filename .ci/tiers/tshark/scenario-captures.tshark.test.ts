/**
 * The tshark tier for the scenario suite (issue 6): every usbmon capture attached to the Allure results of
 * a simulated run decodes in tshark with no malformed packets, and tshark's reading of every URB (type,
 * endpoint, status, lengths, SETUP fields) matches the URBs the scenario's simulated link recorded (our own
 * reader of the same file, an independent parser).
 *
 * Uses reports/allure-results from the preceding `npm test`; if it holds no capture, runs the sim suite first.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { readUsbmonCapture } from '../../../simulator/index.js';
import { EXPERT_SEVERITY_ERROR, decodeWithTshark, findTshark } from './tshark.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const RESULTS = join(ROOT, 'reports', 'allure-results');
const tshark = await findTshark();
const hex2 = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

interface AttachedCapture {
  readonly scenario: string;
  readonly path: string;
}

/**
 * Maps each scenario to the pcap attached by its latest run. A results folder accumulates runs (every
 * `npm test` adds one); only the newest result of each scenario counts.
 */
async function attachedCaptures(): Promise<AttachedCapture[]> {
  let names: string[];
  try {
    names = await readdir(RESULTS);
  } catch {
    return [];
  }
  const latest = new Map<string, { stop: number; path: string }>();
  const visit = (
    node: { attachments?: { source: string; type: string }[]; steps?: unknown[] },
    found: string[],
  ): void => {
    for (const a of node.attachments ?? []) if (a.type === 'application/vnd.tcpdump.pcap') found.push(join(RESULTS, a.source));
    for (const s of node.steps ?? []) visit(s as typeof node, found);
  };
  for (const n of names.filter((x) => x.endsWith('-result.json'))) {
    const result = JSON.parse(await readFile(join(RESULTS, n), 'utf8')) as {
      fullName?: string;
      name: string;
      stop?: number;
      attachments?: { source: string; type: string }[];
      steps?: unknown[];
    };
    const found: string[] = [];
    visit(result, found);
    const scenario = result.fullName ?? result.name;
    const stop = result.stop ?? 0;
    if (found[0] !== undefined && (latest.get(scenario)?.stop ?? -1) < stop) latest.set(scenario, { stop, path: found[0] });
  }
  return [...latest].map(([scenario, { path }]) => ({ scenario, path }));
}

if (tshark === undefined) {
  describe('tshark tier: scenario captures', () => {
    it.runIf(process.env['CI'] === 'true')('needs tshark (CI=true)', () => {
      expect.fail('tshark is not installed; .ci/run installs it before npm run test:tshark');
    });
  });
} else {
  const tsharkPath = tshark;
  describe('tshark tier: captures attached by the simulated scenario suite', () => {
    let captures: AttachedCapture[] = [];
    beforeAll(async () => {
      captures = await attachedCaptures();
      if (captures.length === 0) {
        await promisify(execFile)(join(ROOT, 'node_modules', '.bin', 'vitest'), ['run', '--project', 'sim'], { cwd: ROOT });
        captures = await attachedCaptures();
      }
    }, 180_000);

    it('finds a capture attached to every scenario', () => {
      expect(captures.length).toBeGreaterThanOrEqual(40);
    });

    it('decodes every attached capture with no malformed packet and the same URBs the link recorded', async () => {
      let frames = 0;
      for (const c of captures) {
        const records = readUsbmonCapture(new Uint8Array(await readFile(c.path))).records;
        const decoded = await decodeWithTshark(tsharkPath, c.path);
        expect(decoded.length, `${c.scenario}: frame count`).toBe(records.length);
        decoded.forEach((f, i) => {
          const e = records[i]!.event;
          const where = `${c.scenario}: frame ${i + 1} (${e.kind} ${e.transferType} ${hex2(e.endpoint)})`;
          expect(f.has('_ws.malformed'), `${where} is malformed`).toBe(false);
          expect(f.all('_ws.expert.severity'), `${where}: ${f.all('_ws.expert.message').join('; ')}`).not.toContain(EXPERT_SEVERITY_ERROR);
          expect(f.get('usb.urb_type'), where).toBe(`'${e.kind}'`);
          expect(f.get('usb.endpoint_address'), where).toBe(hex2(e.endpoint));
          expect(f.get('usb.urb_status'), where).toBe(String(e.status));
          expect(f.get('usb.urb_len'), where).toBe(String(e.length));
          expect(f.get('usb.data_len'), where).toBe(String(records[i]!.lenCap));
          if (e.setup !== undefined) {
            expect(f.get('usb.bmRequestType'), where).toBe(hex2(e.setup[0]!));
            expect(f.get('usb.setup.bRequest'), where).toBe(String(e.setup[1]));
            expect(f.get('usb.setup.wLength'), where).toBe(String(e.setup[6]! | (e.setup[7]! << 8)));
          }
        });
        frames += decoded.length;
      }
      console.log(`tshark tier: ${captures.length} scenario captures, ${frames} frames decoded`);
    }, 300_000);
  });
}
