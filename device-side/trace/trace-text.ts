/**
 * Device-trace lines as text for a person at a terminal (the probe prints every call this way), and sinks
 * that print or fan out. The text shows the same raw facts as the JSON: buffers in hex, byte counts, status.
 */
import type { TraceHeader, TraceLine } from './trace-format.js';
import type { TraceSink } from './trace-sink.js';

const ms = (t: number): string => `${t.toFixed(1).padStart(9)} ms`;
/** Bytes of a buffer shown in full on a terminal; longer ones show their start and their length (the trace file has all). */
const SHOWN_BYTES = 128;
const hexOrDash = (hex: string | null | undefined): string => {
  if (hex === null || hex === undefined || hex === '') return '-';
  return hex.length <= SHOWN_BYTES * 2 ? hex : `${hex.slice(0, SHOWN_BYTES * 2)}…(${hex.length / 2} bytes)`;
};

function status(line: { win32?: number | undefined; win32Name?: string | undefined; cr?: number | undefined; crName?: string | undefined; error?: { code: string; message: string } | undefined }): string {
  if (line.win32 !== undefined) return `${line.win32Name ?? 'ERROR'}(${line.win32})`;
  if (line.cr !== undefined) return `${line.crName ?? 'CR'}(${line.cr})`;
  if (line.error !== undefined) return `${line.error.code}: ${line.error.message}`;
  return '?';
}

/** One trace line (or the header) as one line of text. */
export function formatTraceLine(line: TraceHeader | TraceLine): string {
  switch (line.kind) {
    case 'header':
      return `trace ${line.format} v${line.version}: backend ${line.backend}, ${line.os}, node ${line.node}, times in ${line.timeBase} from ${line.clockStartMs}`;
    case 'open':
      return `[${ms(line.completeMs)}] CreateFileW(${line.symbolicLink}) → ${line.handle === null ? 'no handle' : `handle ${line.handle}`}  ${status(line)}`;
    case 'close':
      return `[${ms(line.completeMs)}] CloseHandle(handle ${line.handle})  ${status(line)}`;
    case 'ioctl': {
      const name = line.name.replace('IOCTL_GENERICUSBFN_', '');
      const data = line.outputData === undefined ? '' : ` data=${hexOrDash(line.outputData)}`;
      const result = line.bytesReturned === null ? '' : ` bytesReturned=${line.bytesReturned}`;
      const out = line.output === null ? '' : ` out=${hexOrDash(line.output)}`;
      const cut = line.dataTruncated === true ? ' (buffers cut)' : '';
      return `[${ms(line.completeMs)}] ${name} h${line.handle} in=${hexOrDash(line.input)} outSize=${line.outputSize ?? 'NULL'}${data} →${result}${out}  ${status(line)}${cut}  (issued at ${line.submitMs.toFixed(1)} ms)`;
    }
    case 'cmRegister':
      return `[${ms(line.completeMs)}] CM_Register_Notification(${line.filter} ${String(line.target)}) → ${line.registration ?? 'none'}  ${status(line)}`;
    case 'cmUnregister':
      return `[${ms(line.completeMs)}] CM_Unregister_Notification(${line.registration})  ${status(line)}`;
    case 'cmCall': {
      const what = line.api === 'CM_Get_Device_Interface_List_SizeW' ? `size=${line.size ?? '-'} WCHARs` : `links=${JSON.stringify(line.links ?? [])}`;
      return `[${ms(line.completeMs)}] ${line.api}(${line.interfaceClassGuid}) → ${what}  ${status(line)}`;
    }
    case 'cm': {
      const result = line.result === null ? `threw ${line.threw ?? ''}` : `${line.resultName ?? ''}(${line.result})`;
      return `[${ms(line.timeMs)}] CM notification ${line.registration} ${line.actionName} EventDataSize=${line.eventDataSize} data=${hexOrDash(line.eventData)} → callback returned ${result}`;
    }
    case 'note':
      return `── ${line.text}`;
    case 'end':
      return `[${ms(line.timeMs)}] trace end (${line.pending} call${line.pending === 1 ? '' : 's'} still outstanding)`;
  }
}

/** Prints every line with {@link formatTraceLine}. */
export class PrintingTraceSink implements TraceSink {
  readonly #print: (text: string) => void;

  constructor(print: (text: string) => void) {
    this.#print = print;
  }

  write(line: TraceHeader | TraceLine): void {
    this.#print(formatTraceLine(line));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Writes every line to each of `sinks` (e.g. a file and the terminal). */
export class TeeTraceSink implements TraceSink {
  readonly #sinks: readonly TraceSink[];

  constructor(...sinks: TraceSink[]) {
    this.#sinks = sinks;
  }

  write(line: TraceHeader | TraceLine): void {
    for (const s of this.#sinks) s.write(line);
  }

  async close(): Promise<void> {
    const results = await Promise.allSettled(this.#sinks.map((s) => s.close()));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  }
}
