/**
 * Runs tshark on a capture and flattens its `-T json` output into one field → values map per frame,
 * so assertions can name Wireshark fields (`usb.urb_type`, `usb.setup.wValue`) directly.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** One decoded frame: every field name with all its values in order of appearance. */
export class TsharkFrame {
  readonly fields = new Map<string, string[]>();
  /** First value of `field`, or undefined. */
  get(field: string): string | undefined {
    return this.fields.get(field)?.[0];
  }
  all(field: string): string[] {
    return this.fields.get(field) ?? [];
  }
  has(field: string): boolean {
    return this.fields.has(field);
  }
}

function flatten(node: unknown, frame: TsharkFrame): void {
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (typeof value === 'string') {
      const list = frame.fields.get(key);
      if (list) list.push(value);
      else frame.fields.set(key, [value]);
    } else if (Array.isArray(value)) {
      for (const v of value) {
        if (typeof v === 'string') {
          const list = frame.fields.get(key);
          if (list) list.push(v);
          else frame.fields.set(key, [v]);
        } else flatten(v, frame);
      }
    } else {
      // A subtree: its name is also a field (present, no value), e.g. `_ws.malformed`.
      if (!frame.fields.has(key)) frame.fields.set(key, []);
      flatten(value, frame);
    }
  }
}

/** Where tshark is, or undefined. */
export async function findTshark(): Promise<string | undefined> {
  try {
    const { stdout } = await run('sh', ['-c', 'command -v tshark'], { timeout: 10_000 });
    const path = stdout.trim();
    return path === '' ? undefined : path;
  } catch {
    return undefined;
  }
}

/** tshark's version line. */
export async function tsharkVersion(tshark: string): Promise<string> {
  const { stdout } = await run(tshark, ['--version'], { timeout: 20_000 });
  return stdout.split('\n')[0] ?? '';
}

/** Decodes `path` with `tshark -r path -T json -n`; an outer timeout bounds a hung tshark. */
export async function decodeWithTshark(tshark: string, path: string): Promise<TsharkFrame[]> {
  const { stdout } = await run(tshark, ['-r', path, '-T', 'json', '-n'], { timeout: 60_000, maxBuffer: 256 * 1024 * 1024 });
  const packets = JSON.parse(stdout) as { _source?: { layers?: unknown } }[];
  return packets.map((p) => {
    const f = new TsharkFrame();
    flatten(p._source?.layers, f);
    return f;
  });
}

/** Wireshark's PI_ERROR severity (epan/proto.h) as tshark prints `_ws.expert.severity`. */
export const EXPERT_SEVERITY_ERROR = String(0x00800000);
