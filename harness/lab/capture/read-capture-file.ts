/**
 * Reading back the file a capture tool wrote: it must exist, be classic pcap of the expected link type, and
 * (optionally) be cut to the scenario's time window.
 */
import { HarnessError } from '../../../core/index.js';
import type { CaptureFileSystem } from './capture-file-system.js';
import type { HostCaptureResult } from './host-capture-source.js';
import { completePcap, pcapRecords, readPcapHeader, trimPcapToWindow } from './pcap-file.js';

/** Host wall-clock times of start() and stop(), ms since the epoch. */
export interface CaptureWindow {
  readonly startMs: number;
  readonly stopMs: number;
}

export interface ReadCaptureOptions {
  /** The tool's name, for messages. */
  readonly tool: string;
  /** Link types the file may have. */
  readonly linkTypes: readonly number[];
  /** A tool that can only be killed may leave half a record at the end: drop it instead of failing. */
  readonly allowTruncatedTail: boolean;
  /** Keep only the records of this window. */
  readonly window?: CaptureWindow | undefined;
}

/** Reads and checks the capture; a file that is missing or not what was expected is `unavailable`, with why. */
export async function readCaptureFile(fs: CaptureFileSystem, path: string, options: ReadCaptureOptions): Promise<HostCaptureResult> {
  const bytes = await fs.readFile(path);
  if (bytes === undefined) return { unavailable: `${options.tool} stopped without writing ${path}` };
  try {
    const header = readPcapHeader(bytes);
    if (!options.linkTypes.includes(header.linkType)) {
      return { unavailable: `${options.tool} wrote link type ${header.linkType}, not ${options.linkTypes.join(' or ')}: ${path} is not a USB capture` };
    }
    const { truncatedAt } = pcapRecords(bytes);
    if (truncatedAt !== undefined && !options.allowTruncatedTail) {
      return { unavailable: `${options.tool} left ${path} cut inside a record (at byte ${truncatedAt}): the capture is incomplete` };
    }
    const whole = completePcap(bytes);
    const pcap = options.window === undefined ? whole : trimPcapToWindow(whole, { startUs: options.window.startMs * 1000, endUs: options.window.stopMs * 1000 });
    return { pcap };
  } catch (err) {
    if (err instanceof HarnessError && err.code === 'DECODE') return { unavailable: `${options.tool} wrote ${path}, but ${err.message}` };
    throw err;
  }
}
