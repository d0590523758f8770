/**
 * Scripts of the capture tools as they behave on a real host (see docs/bench-hardware.md), for
 * {@link FakeProcessSpawner}: dumpcap and tshark print what dumpcap 4.0.17 / tshark 4.0.17 printed here
 * (capturing `lo`, and asked for a `usbmon1` that does not exist), write the pcap
 * global header when the interface opens, and flush the rest of the capture on SIGTERM; USBPcapCMD prints
 * nothing, creates its file when it starts and is terminated to stop.
 */
import type { FakeCaptureFileSystem } from './fake-capture-file-system.js';
import type { FakeProcessScript } from './fake-process-spawner.js';

const PCAP_GLOBAL_HEADER_BYTES = 24;

function outputPath(args: readonly string[], flag: string): string {
  const i = args.indexOf(flag);
  const path = i < 0 ? undefined : args[i + 1];
  if (path === undefined) throw new Error(`fake capture tool: no ${flag} <file> in ${JSON.stringify(args)}`);
  return path;
}

/**
 * dumpcap (or tshark, `tool: 'tshark'`) capturing an interface that opens: prints `Capturing on`, writes the
 * header, prints the file line; on SIGTERM writes `pcap` whole, prints the count and exits 0.
 */
export function fakeDumpcap(fs: FakeCaptureFileSystem, pcap: Uint8Array, options: { tool?: 'dumpcap' | 'tshark'; records?: number } = {}): FakeProcessScript {
  return (p) => {
    const file = outputPath(p.args, '-w');
    const iface = p.args[p.args.indexOf('-i') + 1];
    p.print(`Capturing on '${iface}'\n`);
    fs.write(file, pcap.slice(0, PCAP_GLOBAL_HEADER_BYTES));
    p.print(options.tool === 'tshark' ? ` ** (tshark:1234) 12:00:00.000000 [Main MESSAGE] -- Capture started.\n ** (tshark:1234) 12:00:00.000100 [Main MESSAGE] -- File: "${file}"\n` : `File: ${file}\n`);
    p.onSignal(() => {
      fs.write(file, pcap);
      p.print(options.tool === 'tshark' ? `${options.records ?? 0} packets captured\n` : `Packets captured: ${options.records ?? 0}\n`);
      p.exit(0);
    });
  };
}

/** dumpcap when usbmon is not loaded: libpcap knows no such interface (dumpcap 4.0.17's words). */
export const fakeDumpcapNoDevice: FakeProcessScript = (p) => {
  const iface = p.args[p.args.indexOf('-i') + 1];
  p.print(`Capturing on '${iface}'\ndumpcap: There is no device named "${iface}".\n(No such device exists)\n`);
  p.exit(1);
};

/**
 * dumpcap without read access to /dev/usbmonN. The text is libpcap's PCAP_ERROR_PERM_DENIED message in
 * dumpcap's "could not be initiated" frame; not observed on this machine (it has no usbmon).
 */
export const fakeDumpcapPermissionDenied: FakeProcessScript = (p) => {
  const iface = p.args[p.args.indexOf('-i') + 1];
  p.print(
    `Capturing on '${iface}'\ndumpcap: The capture session could not be initiated on capture device "${iface}" (You don't have permission to capture on that device).\nPlease check to make sure you have sufficient permissions.\n`,
  );
  p.exit(2);
};

/** A tool that starts but never reports capturing and ignores SIGTERM (SIGKILL ends it). */
export const fakeSilentHang: FakeProcessScript = (p) => {
  p.onSignal(() => undefined);
};

/** USBPcapCMD: creates its file (the header) when it starts, appends `pcap` and dies when terminated. */
export function fakeUsbpcapCmd(fs: FakeCaptureFileSystem, pcap: Uint8Array): FakeProcessScript {
  return (p) => {
    const file = outputPath(p.args, '-o');
    fs.write(file, pcap.slice(0, PCAP_GLOBAL_HEADER_BYTES));
    // Windows has no SIGTERM: any kill terminates, after the buffers already written reached the file.
    p.onSignal(() => {
      fs.write(file, pcap);
      p.exit(1);
    });
  };
}
