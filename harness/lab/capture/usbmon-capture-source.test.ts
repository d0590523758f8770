import { describe, expect, it } from 'vitest';
import { LINKTYPE_USB_LINUX_MMAPPED, pcapRecords, readPcapHeader } from './pcap-file.js';
import {
  FakeCaptureFileSystem,
  fakeDumpcap,
  fakeDumpcapNoDevice,
  fakeDumpcapPermissionDenied,
  FakeProcessSpawner,
  fakeSilentHang,
  scenarioUrbs,
  usbmonPcap,
  type FakeProcessScript,
} from './testing/index.js';
import { UsbmonCaptureSource, type UsbmonCaptureSourceOptions } from './usbmon-capture-source.js';

const T0_MS = Date.UTC(2026, 11, 6, 12);
const RECORDED = usbmonPcap(scenarioUrbs(T0_MS * 1000 + 10_000, 0));
const FILE = '/tmp/usbfn-hil-capture-1/usbmon1.pcap';

/** A Linux host with usbmon loaded for buses 1 and 2 (and 0: all buses). */
/** Temporary files and directories left behind. */
const leftovers = (fs: FakeCaptureFileSystem): string[] => [...fs.dirs, ...fs.files.keys()].filter((p) => p.startsWith('/tmp/'));

const linuxHost = (): FakeCaptureFileSystem => new FakeCaptureFileSystem(['/sys/bus/usb/', '/dev/usbmon0', '/dev/usbmon1', '/dev/usbmon2']);

function source(fs: FakeCaptureFileSystem, scripts: Record<string, FakeProcessScript>, options: Partial<UsbmonCaptureSourceOptions> = {}) {
  const spawner = new FakeProcessSpawner(scripts);
  let now = T0_MS;
  const capture = new UsbmonCaptureSource({ busNumber: 1, spawner, fileSystem: fs, platform: 'linux', wallClockMs: () => (now += 1_000), ...options });
  return { capture, spawner };
}

async function unavailable(capture: UsbmonCaptureSource): Promise<string> {
  await capture.start();
  const r = await capture.stop();
  if (!('unavailable' in r)) throw new Error('expected no capture');
  return r.unavailable;
}

describe('UsbmonCaptureSource', () => {
  it('captures the device bus with dumpcap and reads the flushed file back', async () => {
    const fs = linuxHost();
    const { capture, spawner } = source(fs, { dumpcap: fakeDumpcap(fs, RECORDED, { records: 8 }) });
    expect(capture.kind).toBe('usbmon');
    await capture.start();
    const [dumpcap] = spawner.spawned;
    expect(dumpcap).toMatchObject({ file: 'dumpcap', args: ['-i', 'usbmon1', '-P', '-q', '-w', FILE] });
    // While it runs, the file holds only what dumpcap wrote so far.
    expect(fs.files.get(FILE)).toHaveLength(24);
    const result = await capture.stop();
    expect(dumpcap!.signals).toEqual(['SIGTERM']);
    expect(result).toEqual({ pcap: RECORDED });
    if (!('pcap' in result)) throw new Error('no pcap');
    expect(readPcapHeader(result.pcap).linkType).toBe(LINKTYPE_USB_LINUX_MMAPPED);
    expect(pcapRecords(result.pcap).records).toHaveLength(8);
    // The temporary directory is gone and the window is on the host wall clock.
    expect(leftovers(fs)).toEqual([]);
    expect(capture.window).toEqual({ startMs: T0_MS + 1_000, stopMs: T0_MS + 2_000 });
  });

  it('can be started again for the next scenario', async () => {
    const fs = linuxHost();
    const { capture, spawner } = source(fs, { dumpcap: fakeDumpcap(fs, RECORDED) });
    for (let i = 0; i < 2; i++) {
      await capture.start();
      expect(await capture.stop()).toHaveProperty('pcap');
    }
    expect(spawner.spawned.map((p) => p.args.at(-1))).toEqual([FILE, '/tmp/usbfn-hil-capture-2/usbmon1.pcap']);
  });

  it('trims the capture to the scenario window when asked', async () => {
    const fs = linuxHost();
    // Records before start (setup traffic), during the scenario, and after stop.
    const before = scenarioUrbs(T0_MS * 1000 + 500_000, 0);
    const during = scenarioUrbs(T0_MS * 1000 + 1_500_000, 100);
    const after = scenarioUrbs(T0_MS * 1000 + 2_500_000, 200);
    const { capture } = source(fs, { dumpcap: fakeDumpcap(fs, usbmonPcap([...before, ...during, ...after])) }, { trimToWindow: true });
    await capture.start(); // window opens at T0 + 1000 ms
    const result = await capture.stop(); // and closes at T0 + 2000 ms
    expect(result).toEqual({ pcap: usbmonPcap(during) });
  });

  it('falls back to tshark when dumpcap is not installed', async () => {
    const fs = linuxHost();
    const { capture, spawner } = source(fs, { tshark: fakeDumpcap(fs, RECORDED, { tool: 'tshark' }) });
    await capture.start();
    expect(spawner.spawned.map((p) => [p.file, p.args])).toEqual([
      ['dumpcap', ['-i', 'usbmon1', '-P', '-q', '-w', FILE]],
      ['tshark', ['-i', 'usbmon1', '-F', 'pcap', '-q', '-w', FILE]],
    ]);
    expect(await capture.stop()).toEqual({ pcap: RECORDED });
  });

  it('says how to install a capture tool when there is none', async () => {
    const reason = await unavailable(source(linuxHost(), {}).capture);
    expect(reason).toBe(
      'no host capture of bus 1: dumpcap and tshark are not installed. Fix: sudo apt install wireshark-common (dumpcap) or tshark, and allow non-root capture (sudo dpkg-reconfigure wireshark-common)',
    );
  });

  it('says how to load usbmon when it is not loaded, without starting a tool', async () => {
    const { capture, spawner } = source(new FakeCaptureFileSystem(['/sys/bus/usb/', '/dev/null']), {});
    expect(await unavailable(capture)).toContain('usbmon is not loaded (no /dev/usbmon* devices). Fix: sudo modprobe usbmon');
    expect(spawner.spawned).toEqual([]);
  });

  it('says when the host has no USB at all', async () => {
    expect(await unavailable(source(new FakeCaptureFileSystem([]), {}).capture)).toContain('this host has no USB subsystem (/sys/bus/usb is absent');
  });

  it('says how to get read access to /dev/usbmonN', async () => {
    const reason = await unavailable(source(linuxHost().deny('/dev/usbmon1'), {}).capture);
    expect(reason).toContain('this user may not read /dev/usbmon1');
    expect(reason).toContain(`SUBSYSTEM=="usbmon", GROUP="wireshark", MODE="0640"`);
    expect(reason).toContain('usermod -aG wireshark');
  });

  it('names the usbmon buses there are when the device bus has none', async () => {
    const { capture } = source(linuxHost(), {}, { busNumber: 3 });
    expect(await unavailable(capture)).toContain('there is no /dev/usbmon3, although usbmon is loaded (/dev/usbmon0, /dev/usbmon1, /dev/usbmon2)');
  });

  it('is unavailable on other systems', async () => {
    expect(await unavailable(source(linuxHost(), {}, { platform: 'darwin' }).capture)).toBe('no host capture of bus 1: usbmon exists on Linux only (this host is darwin)');
  });

  it('explains a tool that cannot open the interface', async () => {
    const noDevice = source(linuxHost(), { dumpcap: fakeDumpcapNoDevice });
    const r1 = await unavailable(noDevice.capture);
    expect(r1).toContain('dumpcap finds no usbmon1: Capturing on \'usbmon1\'\ndumpcap: There is no device named "usbmon1".');
    expect(r1).toContain('Fix: sudo modprobe usbmon');
    const denied = source(linuxHost(), { dumpcap: fakeDumpcapPermissionDenied });
    expect(await unavailable(denied.capture)).toContain('dumpcap may not open usbmon1');
    const crashed = source(linuxHost(), { dumpcap: (p) => p.exit(null, 'SIGSEGV') });
    expect(await unavailable(crashed.capture)).toBe('no host capture of bus 1: dumpcap was killed by SIGSEGV: it printed nothing');
  });

  it('gives up on a tool that never starts capturing, and reaps it', async () => {
    const { capture, spawner } = source(linuxHost(), { dumpcap: fakeSilentHang }, { startTimeoutMs: 30 });
    expect(await unavailable(capture)).toBe('no host capture of bus 1: dumpcap did not start capturing on usbmon1 within 30 ms (it printed: nothing)');
    expect(spawner.spawned[0]!.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(await Promise.race([spawner.spawned[0]!.exited, Promise.resolve('running')])).toMatchObject({ signal: 'SIGKILL' });
  });

  it('kills a tool that ignores SIGTERM at stop, and says the capture may be cut short', async () => {
    const fs = linuxHost();
    const stubborn: FakeProcessScript = (p) => {
      fakeDumpcap(fs, RECORDED)(p);
      p.onSignal(() => undefined);
    };
    const { capture, spawner } = source(fs, { dumpcap: stubborn }, { stopTimeoutMs: 20 });
    await capture.start();
    expect(await capture.stop()).toEqual({ unavailable: 'dumpcap did not stop within 20 ms of SIGTERM and was killed: the usbmon1 capture may be cut short' });
    expect(spawner.spawned[0]!.signals).toEqual(['SIGTERM', 'SIGKILL']);
  });

  it('does not wait forever for a tool that survives SIGKILL', async () => {
    const fs = linuxHost();
    const stuck: FakeProcessScript = (p) => {
      fakeDumpcap(fs, RECORDED)(p);
      p.onSignal(() => undefined);
      p.unkillable();
    };
    const { capture } = source(fs, { dumpcap: stuck }, { stopTimeoutMs: 10, killWaitMs: 10 });
    await capture.start();
    expect(await capture.stop()).toEqual({ unavailable: 'dumpcap (pid 4000) did not exit after SIGTERM and SIGKILL: the usbmon1 capture cannot be trusted' });
  });

  it('reports a tool that died during the scenario', async () => {
    const fs = linuxHost();
    let die: (() => void) | undefined;
    const dying: FakeProcessScript = (p) => {
      fakeDumpcap(fs, RECORDED)(p);
      die = () => {
        p.print('dumpcap: Error while capturing packets: No such device\n');
        p.exit(2);
      };
    };
    const { capture } = source(fs, { dumpcap: dying });
    await capture.start();
    die!();
    const r = await capture.stop();
    expect(r).toEqual({ unavailable: expect.stringContaining('the usbmon1 capture ended on its own during the scenario: dumpcap finds no usbmon1') });
    expect(leftovers(fs)).toEqual([]);
  });

  it('refuses a file that is not a complete usbmon pcap', async () => {
    const fs = linuxHost();
    const cut = RECORDED.slice(0, RECORDED.length - 10);
    const { capture } = source(fs, { dumpcap: fakeDumpcap(fs, cut) });
    await capture.start();
    expect(await capture.stop()).toEqual({ unavailable: expect.stringMatching(/^dumpcap left \/tmp\/usbfn-hil-capture-1\/usbmon1\.pcap cut inside a record \(at byte \d+\): the capture is incomplete$/) });
    const ethernet = RECORDED.slice();
    new DataView(ethernet.buffer).setUint32(20, 1, true);
    const { capture: c2 } = source(fs, { dumpcap: fakeDumpcap(fs, ethernet) });
    await c2.start();
    expect(await c2.stop()).toEqual({ unavailable: expect.stringContaining('wrote link type 1, not 220 or 189') });
  });

  it('says stop() without start() is a missing capture, and refuses a second start', async () => {
    const fs = linuxHost();
    const { capture } = source(fs, { dumpcap: fakeDumpcap(fs, RECORDED) });
    expect(await capture.stop()).toEqual({ unavailable: 'the usbmon1 capture was not started: call start() before the scenario' });
    await capture.start();
    await expect(capture.start()).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await capture.stop();
  });

  it('stops and reaps the tool when start is aborted', async () => {
    const fs = linuxHost();
    const ac = new AbortController();
    const { capture, spawner } = source(fs, { dumpcap: fakeSilentHang });
    const starting = capture.start({ signal: ac.signal });
    setTimeout(() => ac.abort(new Error('run cancelled')), 5);
    await expect(starting).rejects.toMatchObject({ code: 'ABORTED' });
    expect(spawner.spawned[0]!.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(leftovers(fs)).toEqual([]);
  });

  it('kills the tool and still cleans up when stop is aborted', async () => {
    const fs = linuxHost();
    const stubborn: FakeProcessScript = (p) => {
      fakeDumpcap(fs, RECORDED)(p);
      p.onSignal(() => undefined);
    };
    const { capture, spawner } = source(fs, { dumpcap: stubborn });
    await capture.start();
    const ac = new AbortController();
    const stopping = capture.stop({ signal: ac.signal });
    setTimeout(() => ac.abort(new Error('run cancelled')), 5);
    await expect(stopping).rejects.toMatchObject({ code: 'ABORTED' });
    expect(spawner.spawned[0]!.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(leftovers(fs)).toEqual([]);
  });

  it('rejects a bus number that is not one', () => {
    expect(() => new UsbmonCaptureSource({ busNumber: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
