/**
 * Child processes of the CLI (vitest, the Allure CLI): argument arrays, never a shell; stdio inherited so
 * the user sees their output as it happens.
 */
import { spawn } from 'node:child_process';
import { ROOT } from './paths.js';

/** Runs `cmd args` in the package root; resolves with its exit code (128 + n for a signal). */
export function runChild(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], { cwd: ROOT, env, stdio: 'inherit', shell: false });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}
