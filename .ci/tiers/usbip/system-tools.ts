/**
 * Helpers of the USB/IP tier: where the system tools are, the shipped `usbfn-hil usbip serve` as a child
 * process, a loopback capture with dumpcap, and tshark's JSON decoding of it.
 *
 * In CI (CI=true) a missing tool fails the tier; on a developer machine it is skipped with the reason.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const IN_CI = process.env['CI'] === 'true';

/** The first executable of `candidates`, then `name` on PATH; undefined when absent. */
export async function findTool(name: string, candidates: readonly string[] = []): Promise<string | undefined> {
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  try {
    const { stdout } = await run('sh', ['-c', `command -v ${name}`], { timeout: 10_000 });
    return stdout.trim() === '' ? undefined : stdout.trim();
  } catch {
    return undefined;
  }
}

/** Runs a tool; resolves with its output and exit code (never rejects on a non-zero exit). */
export async function runTool(file: string, args: readonly string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(file, [...args], { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message };
  }
}

/** `usbfn-hil usbip serve` running as a child process. */
export interface ServeProcess {
  readonly port: number;
  readonly child: ChildProcess;
  readonly stdout: string[];
  readonly stderr: string[];
  /** SIGTERM, then the exit code (the command shuts down gracefully: 0). */
  stop(): Promise<number | null>;
}

/**
 * Starts the shipped command on an ephemeral 127.0.0.1 port and resolves once it prints its port.
 * @throws Error when it exits or says nothing within 20 s (with its output).
 */
export function startServe(args: readonly string[] = []): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['harness/cli/bin.js', 'usbip', 'serve', '--listen', '127.0.0.1:0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`usbfn-hil usbip serve printed no port within 20 s:\n${stdout.join('')}\n${stderr.join('')}`));
    }, 20_000);
    child.stderr!.on('data', (b: Buffer) => stderr.push(b.toString()));
    child.stdout!.on('data', (b: Buffer) => {
      stdout.push(b.toString());
      const m = /usbip --tcp-port (\d+) list -r/.exec(stdout.join(''));
      if (m === null) return;
      clearTimeout(timer);
      resolve({
        port: Number(m[1]),
        child,
        stdout,
        stderr,
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`usbfn-hil usbip serve exited with ${code} before listening:\n${stdout.join('')}\n${stderr.join('')}`));
    });
  });
}

/** A dumpcap capture on the loopback interface of one TCP port. */
export interface LoopbackCapture {
  readonly path: string;
  /** Stops the capture and resolves once the file is complete. */
  stop(): Promise<void>;
}

/**
 * Starts `dumpcap -i lo -f 'tcp port <port>'` and resolves once it captures.
 * @throws Error when dumpcap fails to start (no permission to capture, no `lo`), with its message.
 */
export function captureLoopback(dumpcap: string, port: number, path: string): Promise<LoopbackCapture> {
  const child = spawn(dumpcap, ['-i', 'lo', '-f', `tcp port ${port}`, '-w', path], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dumpcap did not start capturing within 10 s: ${err}`));
    }, 10_000);
    child.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      if (!/Capturing on/.test(err)) return;
      clearTimeout(timer);
      resolve({
        path,
        stop: async () => {
          child.kill('SIGINT');
          await exited;
        },
      });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`dumpcap exited with ${code}: ${err.trim()}`));
    });
  });
}

/** The layers of one frame of `tshark -T json`, as tshark names them. */
export type TsharkLayers = Record<string, unknown>;

/**
 * Decodes `path` with the USB/IP dissector on `port`; one entry per frame. A field that occurs twice in one
 * PDU (CMD_UNLINK shows its seqnum and the unlinked seqnum under one name) becomes an array.
 */
export async function decodeUsbIp(tshark: string, path: string, port: number): Promise<TsharkLayers[]> {
  const r = await runTool(tshark, ['-r', path, '-n', '-d', `tcp.port==${port},usbip`, '-T', 'json', '--no-duplicate-keys'], 60_000);
  if (r.code !== 0) throw new Error(`tshark failed (${r.code}): ${r.stderr}`);
  return (JSON.parse(r.stdout) as { _source: { layers: TsharkLayers } }[]).map((p) => p._source.layers);
}

/** Every value of `field` anywhere in a layer tree, in order. */
export function fieldValues(node: unknown, field: string, out: string[] = []): string[] {
  if (node === null || typeof node !== 'object') return out;
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (k === field) {
      if (typeof v === 'string') out.push(v);
      else if (Array.isArray(v)) for (const x of v) if (typeof x === 'string') out.push(x);
    }
    if (typeof v === 'object') fieldValues(v, field, out);
  }
  return out;
}

/** The `usbip` PDUs of a frame (a frame carries several when URBs are pipelined). */
export function usbipPdus(layers: TsharkLayers): Record<string, unknown>[] {
  const u = layers['usbip'];
  if (u === undefined) return [];
  return (Array.isArray(u) ? u : [u]) as Record<string, unknown>[];
}

/** Wireshark's PI_ERROR severity (epan/proto.h) as tshark prints `_ws.expert.severity`. */
export const EXPERT_SEVERITY_ERROR = String(0x00800000);
