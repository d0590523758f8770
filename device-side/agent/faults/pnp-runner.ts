/**
 * The `PnpRunner` seam: how the agent runs real PnP on the function's devnode. The real runner calls
 * `pnputil` (through an {@link PnputilExec} seam, so its parsing is tested with recorded outputs); tests of
 * the agent use `FakePnpRunner` (device-side/agent/testing).
 */
import { execFile } from 'node:child_process';
import { AgentError } from '../agent-error.js';
import { parsePnputilResult, parsePnputilVerbs, pnputilCommand, PNPUTIL, type PnpOutcome, type PnputilOutput, type PnpVerb } from './pnputil.js';

export interface PnpRunner {
  /** The verbs this Windows build's pnputil offers (empty where there is none). */
  verbs(): Promise<PnpVerb[]>;
  /**
   * Runs the verb on the devnode.
   * @throws AgentError LAB_AGENT_PNP_FAILED (pnputil failed or could not run), LAB_AGENT_DEADLINE (aborted).
   */
  run(verb: PnpVerb, instanceId: string, options?: { signal?: AbortSignal | undefined }): Promise<PnpOutcome>;
}

/** Runs a program without a shell and resolves with its exit code and output (never rejects on exit code). */
export type PnputilExec = (file: string, args: readonly string[], options: { signal?: AbortSignal | undefined; timeoutMs: number }) => Promise<PnputilOutput>;

/** `execFile` as a {@link PnputilExec}: rejects only when the program could not run at all. */
export const execPnputil: PnputilExec = (file, args, options) =>
  new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: options.timeoutMs, signal: options.signal, windowsHide: true, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err === null) return resolve({ exitCode: 0, stdout, stderr });
      const code = (err as NodeJS.ErrnoException & { code?: unknown }).code;
      if (typeof code === 'number') return resolve({ exitCode: code, stdout, stderr });
      reject(err);
    });
  });

/** The pnputil-backed runner. */
export class PnputilRunner implements PnpRunner {
  readonly #exec: PnputilExec;
  readonly #timeoutMs: number;

  constructor(options: { exec?: PnputilExec; timeoutMs?: number } = {}) {
    this.#exec = options.exec ?? execPnputil;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  async verbs(): Promise<PnpVerb[]> {
    try {
      const out = await this.#exec(PNPUTIL, ['/?'], { timeoutMs: this.#timeoutMs });
      return parsePnputilVerbs(`${out.stdout}\n${out.stderr}`);
    } catch {
      // No pnputil (not Windows): no verbs, which health reports and fault requests name.
      return [];
    }
  }

  async run(verb: PnpVerb, instanceId: string, options: { signal?: AbortSignal | undefined } = {}): Promise<PnpOutcome> {
    const { file, args } = pnputilCommand(verb, instanceId);
    let out: PnputilOutput;
    try {
      out = await this.#exec(file, args, { signal: options.signal, timeoutMs: this.#timeoutMs });
    } catch (err) {
      if (options.signal?.aborted) {
        throw new AgentError('LAB_AGENT_DEADLINE', `pnputil ${args[0]} was stopped at the request's deadline`, 'Give the request more time (usbfn-deadline-ms).', {}, { cause: err });
      }
      throw new AgentError(
        'LAB_AGENT_PNP_FAILED',
        `pnputil could not run: ${err instanceof Error ? err.message : String(err)}`,
        'PnP faults need Windows 10 version 2004 or later with pnputil.exe on the PATH.',
        { verb, instanceId },
        { cause: err },
      );
    }
    return parsePnputilResult(verb, instanceId, out);
  }
}
