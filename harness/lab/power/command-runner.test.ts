/**
 * The real runner, against `node` itself (never uhubctl): exit codes, output, a missing program, a timeout
 * (the process is killed and reaped), an abort, and arguments that a shell would have interpreted.
 */
import { describe, expect, it } from 'vitest';
import { COMMAND_ERROR, ExecFileCommandRunner, formatCommand, tail } from './command-runner.js';

const NODE = process.execPath;
const runner = new ExecFileCommandRunner();

describe('ExecFileCommandRunner', () => {
  it('resolves with stdout, stderr and the exit code, zero or not', async () => {
    const ok = await runner.run(NODE, ['-e', 'process.stdout.write("a"); process.stderr.write("b")'], { timeoutMs: 10_000 });
    expect(ok).toEqual({ exitCode: 0, signal: null, stdout: 'a', stderr: 'b' });
    const bad = await runner.run(NODE, ['-e', 'process.stderr.write("no hub"); process.exit(3)'], { timeoutMs: 10_000 });
    expect(bad).toMatchObject({ exitCode: 3, stderr: 'no hub' });
  });

  it('passes arguments verbatim: no shell sees them', async () => {
    const tricky = ['1-1; echo pwned', '$(id)', '"quoted"', "it's", '*'];
    const r = await runner.run(NODE, ['-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', ...tricky], { timeoutMs: 10_000 });
    expect(JSON.parse(r.stdout)).toEqual(tricky);
  });

  it('says when the program does not exist', async () => {
    await expect(runner.run('uhubctl-that-does-not-exist', ['-l', '1-1'], { timeoutMs: 10_000 })).rejects.toMatchObject({
      code: COMMAND_ERROR.notFound,
      message: expect.stringContaining("'uhubctl-that-does-not-exist' is not installed or not on PATH"),
    });
  });

  it('kills and reaps a command that outlives its timeout, and reports a timeout', async () => {
    const started = Date.now();
    await expect(runner.run(NODE, ['-e', 'console.error("working"); setInterval(() => {}, 1000)'], { timeoutMs: 300 })).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringContaining('did not happen within 300 ms'),
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops on abort', async () => {
    const ac = new AbortController();
    const running = runner.run(NODE, ['-e', 'setInterval(() => {}, 1000)'], { timeoutMs: 10_000, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('scenario over')), 100);
    await expect(running).rejects.toMatchObject({ code: 'ABORTED' });
    const pre = new AbortController();
    pre.abort();
    await expect(runner.run(NODE, ['-e', ''], { timeoutMs: 10_000, signal: pre.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('kills a command that prints too much', async () => {
    const small = new ExecFileCommandRunner({ maxOutputBytes: 1_000 });
    await expect(small.run(NODE, ['-e', 'process.stdout.write("x".repeat(100000))'], { timeoutMs: 10_000 })).rejects.toMatchObject({ code: COMMAND_ERROR.outputTooLarge });
  });
});

describe('formatCommand / tail', () => {
  it('quotes what a shell would split, for messages', () => {
    expect(formatCommand('uhubctl', ['-l', '1-1', '-p', '2', '-a', 'off'])).toBe('uhubctl -l 1-1 -p 2 -a off');
    expect(formatCommand('relay', ['port 3', "it's"])).toBe(`relay 'port 3' 'it'\\''s'`);
  });
  it('keeps the end of long output', () => {
    expect(tail('  short \n')).toBe('short');
    expect(tail('a'.repeat(10) + 'END', 5)).toBe('…aaEND');
  });
});
