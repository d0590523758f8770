/**
 * Starts one `umockdev-run` under an outer `timeout`: a replay whose capture does not match what the
 * client submits can wait forever in usbfs, so every replay is bounded.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root (replays run from there, so tsx and vitest resolve as in the project). */
export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** `timeout` exit codes: the command ran out of time (124) or had to be killed after the grace period (137). */
export const TIMED_OUT_CODES: readonly (number | null)[] = [124, 137];

/**
 * Runs `command` with `args` under `timeout --kill-after=5 <timeoutS>`, collecting stdout and stderr.
 * Resolves with the exit code (124/137: timed out); rejects only when the process cannot be started.
 */
export function runBounded(
  command: string,
  args: readonly string[],
  timeoutS: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('timeout', ['--kill-after=5', String(timeoutS), command, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** `umockdev-run <args>` bounded by `timeoutS`. */
export function runReplay(args: readonly string[], timeoutS: number, env?: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return runBounded('umockdev-run', args, timeoutS, env);
}
