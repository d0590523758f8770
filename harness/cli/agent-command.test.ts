/**
 * `usbfn-hil agent serve`: options, a served agent, the build (dist/, plain node: the worker forks without
 * tsx), and the committed USBFN `.reg` file kept equal to the simulator's test function configuration and to
 * its copy in docs/reference/registry.md.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RealClock, UsageError } from '../../core/index.js';
import {
  DEFAULT_DRIVER_SETTINGS,
  newObservations,
  renderUsbFnRegFile,
  USBFN_HIL_TEST_INTERFACE_GUID,
  USBFN_HIL_TEST_REG_COMMENT,
  type DeviceProbeResult,
  type Health,
  type UsbFnRegConfig,
} from '../../device-side/index.js';
import { HostAgent, UsbIpUsbHost } from '../../host-side/index.js';
import { loopbackFunctionConfig, TEST_FUNCTION_PID, TEST_FUNCTION_VID } from '../../simulator/index.js';
import { AgentClient } from '../lab/index.js';
import { freePort } from '../lab-sim/index.js';
import { commandAgent } from './agent-command.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The agent's `fake` backend (a scripted device over FakeUsbFnPort), by module URL as backends are given. */
const FAKE_AGENT_BACKEND_MODULE = new URL('../../device-side/agent/testing/fake-agent-backend.ts', import.meta.url).href;
const TOKEN = '4b1d8c2e6f0a3957b8d1c4e7f2a5b8c1';
const env = { USBFN_HIL_AGENT_TOKEN: TOKEN };

async function health(url: string): Promise<Health> {
  const res = await fetch(`${url}/v1/health`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as Health;
}

const dir = mkdtempSync(join(tmpdir(), 'usbfn-hil-agent-command-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `content` (JSON unless a string) to a file of the test's folder; returns its path. */
function writeJson(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

/** A result file as `usbfn-hil device probe` writes it, recommending `recommendedSettings`. */
function probeResultFile(name: string, recommendedSettings: DeviceProbeResult['recommendedSettings']): string {
  const result: DeviceProbeResult & { trace: string } = {
    format: 'usbfn-hil-probe-result',
    version: 1,
    complete: true,
    startedAt: '2025-01-01T00:00:00.000Z',
    symbolicLink: '\\\\?\\USBFN#1',
    findings: [{ id: 'drv-no-data-handshake', verdict: 'refuted', observed: 'IN first: HANDSHAKE_IN ERROR_INVALID_PARAMETER, then HANDSHAKE_OUT ok' }],
    recommendedSettings,
    observations: newObservations(),
    trace: join(dir, 'device-trace.jsonl'),
  };
  return writeJson(name, result);
}

describe('usbfn-hil agent', () => {
  it('prints its usage and refuses bad options with what to use instead', async () => {
    expect(await commandAgent(['serve', '--help'])).toBe(0);
    expect(await commandAgent([])).toBe(2);
    const backends = { fake: FAKE_AGENT_BACKEND_MODULE };
    const refused = async (argv: string[], pattern: RegExp, e: NodeJS.ProcessEnv = env): Promise<void> => {
      const err = await commandAgent(argv, { backends, env: e }).catch((x: unknown) => x);
      expect(err, argv.join(' ')).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(pattern);
    };
    await refused(['start'], /agent serve/);
    await refused(['serve', '--backend', 'nope'], /use one of fake/);
    await refused(['serve', '--backend', 'fake', '--worker', 'thread'], /process .* in-process/);
    await refused(['serve', '--backend', 'fake', '--function', 'hid'], /loopback or sourceSink/);
    await refused(['serve', '--backend', 'fake', '--listen', '7311'], /host:port/);
    await refused(['serve', '--backend', 'fake'], /USBFN_HIL_AGENT_TOKEN/, {});
    if (process.platform !== 'win32') await refused(['serve'], /--backend is needed off Windows/);
  });

  it('serves the agent with the chosen backend, bench and functions until stopped', async () => {
    const stop = new AbortController();
    let url = '';
    const done = commandAgent(
      ['serve', '--backend', 'fake', '--listen', '127.0.0.1:0', '--worker', 'in-process', '--bench-id', 'bench-7', '--bench-tag', 'speed-high', '--function', 'loopback'],
      { backends: { fake: FAKE_AGENT_BACKEND_MODULE }, env, signal: stop.signal, onListening: (u) => (url = u) },
    );
    await expect.poll(() => url).not.toBe('');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await health(url)).toMatchObject({ backend: 'fake', bench: { id: 'bench-7', tags: ['speed-high'] }, worker: { mode: 'in-process', state: 'ready' } });
    stop.abort();
    expect(await done).toBe(0);
  });

  it('refuses a bad --driver-settings file before it listens, in one line naming the key, the allowed values and the file', async () => {
    const refused = async (path: string, pattern: RegExp): Promise<void> => {
      const err = await commandAgent(['serve', '--backend', 'sim', '--listen', '127.0.0.1:0', '--driver-settings', path], { env }).catch((x: unknown) => x);
      expect(err, path).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(pattern);
      expect((err as Error).message).toContain(path);
      expect((err as Error).message).not.toContain('\n');
    };
    await refused(writeJson('unknown-key.json', { statusHandshake: 'out', ep0Pipe: 0 }), /unknown driver setting 'ep0Pipe': use one of statusHandshake, busEventBytes, ep0PipeId, zeroLengthIn/);
    await refused(writeJson('bad-value.json', { statusHandshake: 'sideways' }), /driver setting statusHandshake "sideways" is not one of in, out, auto/);
    await refused(probeResultFile('bad-probe.json', { busEventBytes: 'loose' as never }), /\(recommendedSettings\): driver setting busEventBytes "loose" is not one of strict, tolerant/);
    await refused(writeJson('not-json.json', 'statusHandshake=out'), /is not JSON/);
    await refused(join(dir, 'absent.json'), /cannot be read \(ENOENT\)/);

    // From the command line: the one line on stderr, exit 2, and no agent started.
    const cli = await run(process.execPath, [fileURLToPath(new URL('./bin.js', import.meta.url)), 'agent', 'serve', '--backend', 'sim', '--driver-settings', join(dir, 'bad-value.json')], {
      ...env,
      USBFN_HIL_FROM_SOURCE: '1',
    });
    expect(cli.code, cli.output).toBe(2);
    expect(cli.output.trim().split('\n')).toEqual([expect.stringMatching(/^usbfn-hil: \[INVALID_ARGUMENT\] --driver-settings .*bad-value\.json: driver setting statusHandshake "sideways" is not one of in, out, auto$/)]);
  }, 30_000);

  // Both worker modes, and both shapes of the file: the probe's result (in the worker process) and a plain object (in-process).
  it.each([
    ['process', () => probeResultFile('probe-result.json', { statusHandshake: 'out', busEventBytes: 'strict' })],
    ['in-process', () => writeJson('settings.json', { statusHandshake: 'out', busEventBytes: 'strict' })],
  ] as const)(
    "--driver-settings reaches every session's service (worker %s): health reports them, and a no-data request is answered with HANDSHAKE_OUT",
    async (worker, settingsFile) => {
      const usbipPort = await freePort();
      const stop = new AbortController();
      let url = '';
      const done = commandAgent(
        ['serve', '--backend', 'sim', '--listen', '127.0.0.1:0', '--usbip', `127.0.0.1:${usbipPort}`, '--worker', worker, '--driver-settings', settingsFile()],
        { env, signal: stop.signal, onListening: (u) => (url = u) },
      );
      const usb = new UsbIpUsbHost({ host: '127.0.0.1', port: usbipPort, pollIntervalMs: 50 });
      try {
        await expect.poll(() => url, { timeout: 30_000 }).not.toBe('');
        const expected = { ...DEFAULT_DRIVER_SETTINGS, statusHandshake: 'out', busEventBytes: 'strict' };
        const h = await health(url);
        expect(h.worker).toMatchObject({ mode: worker, state: 'ready' });
        expect(h.driverSettings).toEqual(expected);

        const client = new AgentClient({ url, token: TOKEN });
        const lease = await client.acquireLease({ holder: `driver settings, ${worker}`, ttlMs: 30_000 });
        const session = await client.openSession({ leaseId: lease.leaseId, name: 'driver settings', seed: 5, world: { fn: 'loopback' } });
        await client.waitFor(session.sessionId, { until: 'configured', timeoutMs: 10_000 });
        const info = await usb.waitForDevice({ vendorId: TEST_FUNCTION_VID, productId: TEST_FUNCTION_PID }, { timeoutMs: 10_000 });
        const handle = await usb.open(info);
        await handle.claimInterface(0);
        const host = await HostAgent.open({ handle, interfaceNumber: 0, clock: new RealClock() });
        await host.resetState(); // RESET_STATE: a class request without a data stage
        await handle.close();

        const { entries } = await client.log(session.sessionId);
        expect(entries.find((e) => e.kind === 'session')?.detail).toMatchObject({ driverSettings: expected });
        // The service's NoDataHandshake ran with the file's setting: OUT, not the default's IN first.
        expect(entries.filter((e) => e.kind === 'noDataHandshake').map((e) => e.detail)).toEqual([{ direction: 'out', setting: 'out' }]);
        expect(entries.filter((e) => e.kind === 'noDataHandshakeRefused')).toEqual([]);
        await client.closeSession(session.sessionId);
        await client.releaseLease(lease.leaseId);
      } finally {
        await usb.close();
        stop.abort();
      }
      expect(await done).toBe(0);
    },
    60_000,
  );

  it('runs from the build on plain node: the worker process forks from dist/ without tsx', async () => {
    const outdir = '.ci/cache/dist-agent-test';
    const built = await run(process.execPath, ['.ci/build-dist.mjs', '--outdir', outdir], {});
    expect(built.code, built.output).toBe(0);
    const dist = pathToFileURL(`${ROOT}${outdir}/`);
    const runner = `
      const { commandAgent } = await import(${JSON.stringify(new URL('harness/cli/agent-command.js', dist).href)});
      const backends = { fake: ${JSON.stringify(new URL('device-side/agent/testing/fake-agent-backend.js', dist).href)} };
      const stop = new AbortController();
      process.stdin.once('data', () => stop.abort());
      const code = await commandAgent(['serve', '--backend', 'fake', '--listen', '127.0.0.1:0'], { backends, signal: stop.signal, onListening: (u) => console.log('LISTENING ' + u) });
      process.exit(code);
    `;
    // No tsx anywhere: a plain node, and NODE_OPTIONS cleared.
    const child = spawn(process.execPath, ['--input-type=module', '-e', runner], { cwd: ROOT, env: { ...process.env, ...env, NODE_OPTIONS: '' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await expect.poll(() => /LISTENING (\S+)/.exec(out)?.[1], { timeout: 20_000 }).toBeDefined();
      const url = /LISTENING (\S+)/.exec(out)![1]!;
      const h = await health(url);
      expect(h.worker, out).toMatchObject({ mode: 'process', state: 'ready' });
      expect(h.worker.pid).not.toBe(child.pid);
      const lease = (await (await fetch(`${url}/v1/leases`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ holder: 'dist', ttlMs: 60_000 }) })).json()) as { leaseId: string };
      const opened = await fetch(`${url}/v1/sessions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ leaseId: lease.leaseId, name: 'from dist', seed: 1, world: { fn: 'loopback' } }),
      });
      expect(opened.status, await opened.clone().text()).toBe(201);
      expect(((await opened.json()) as { status: { service: string } }).status.service).toBe('active');
    } finally {
      child.stdin.write('stop\n');
      expect(await exited, out).toBe(0);
    }
  }, 60_000);

  it('ships a USBFN .reg file equal to the simulator\'s test function configuration', () => {
    const committed = readFileSync(new URL('../../device-side/agent/usbfn-hil-test-function.reg', import.meta.url), 'utf8');
    expect(committed).toBe(renderUsbFnRegFile(loopbackFunctionConfig() as unknown as UsbFnRegConfig, USBFN_HIL_TEST_REG_COMMENT));
    expect(committed).toContain(`"InterfaceGUID"="${USBFN_HIL_TEST_INTERFACE_GUID}"`);
  });

  it('shows the shipped .reg file verbatim in docs/reference/registry.md#test-function', () => {
    const committed = readFileSync(new URL('../../device-side/agent/usbfn-hil-test-function.reg', import.meta.url), 'utf8');
    const doc = readFileSync(new URL('../../docs/reference/registry.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('<a id="test-function"></a>'));
    const block = /^```reg\n([\s\S]*?)^```$/m.exec(section)?.[1];
    expect(block, 'docs/reference/registry.md#test-function has no ```reg block').toBeDefined();
    // The file has CRLF line ends (regedit's); the page has LF. Otherwise byte for byte.
    expect(block).toBe(committed.replaceAll('\r\n', '\n'));
  });
});

function run(cmd: string, args: string[], extraEnv: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}
