/**
 * The real spawner and the start/stop logic against a real child (`node` playing dumpcap: it prints its
 * file line, then flushes and exits 0 on SIGTERM), so that readiness, the polite stop and reaping are
 * checked on real processes. Never a real capture tool.
 */
import { describe, expect, it } from 'vitest';
import { RealClock } from '../../../core/index.js';
import { nodeCaptureFileSystem } from './capture-file-system.js';
import { stopCaptureProcess, waitUntilCapturing } from './capture-process.js';
import { NodeProcessSpawner } from './process-spawner.js';

const NODE = process.execPath;
const clock = new RealClock();
const deps = { clock, fileSystem: nodeCaptureFileSystem };
const spawner = new NodeProcessSpawner();

describe('NodeProcessSpawner with the capture start/stop logic', () => {
  it('sees the ready line, stops the process politely with SIGTERM and reaps it', async () => {
    const p = spawner.spawn(NODE, ['-e', 'process.stderr.write("Capturing on \'usbmon1\'\\nFile: /tmp/x.pcap\\n"); process.on("SIGTERM", () => { process.stderr.write("Packets captured: 0\\n"); process.exit(0); }); setInterval(() => {}, 1000);']);
    expect(await waitUntilCapturing(p, { outputPattern: /\bFile: / }, deps, { timeoutMs: 10_000 })).toEqual({ status: 'running' });
    const stopped = await stopCaptureProcess(p, { clock }, { signal: 'SIGTERM', graceMs: 10_000, killWaitMs: 2_000 });
    expect(stopped).toEqual({ exit: { exitCode: 0, signal: null }, killed: false });
    expect(p.output()).toContain('Packets captured: 0');
    expect(p.kill('SIGTERM')).toBe(false);
  });

  it('kills a process that ignores SIGTERM', async () => {
    const p = spawner.spawn(NODE, ['-e', 'process.on("SIGTERM", () => {}); console.error("File: y"); setInterval(() => {}, 1000);']);
    await waitUntilCapturing(p, { outputPattern: /\bFile: / }, deps, { timeoutMs: 10_000 });
    const stopped = await stopCaptureProcess(p, { clock }, { signal: 'SIGTERM', graceMs: 100, killWaitMs: 5_000 });
    expect(stopped).toEqual({ exit: { exitCode: null, signal: 'SIGKILL' }, killed: true });
  });

  it('reports a program that is not installed as a spawn error', async () => {
    const p = spawner.spawn('dumpcap-not-installed-here', ['-D']);
    expect(await waitUntilCapturing(p, { outputPattern: /File: / }, deps, { timeoutMs: 10_000 })).toEqual({ status: 'exited', exit: { exitCode: null, signal: null, spawnError: 'ENOENT' } });
  });
});
