/**
 * `usbfn-hil list`: it takes every mode `usbfn-hil run` takes (one table, run-mode.ts), and lists a mode's
 * scenarios by that mode's tags without a bench.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../core/index.js';
import { listCommand } from './list-command.js';
import { RUN_MODES } from './run-mode.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('usbfn-hil list', () => {
  it('refuses a mode run does not know, naming the ones it does', async () => {
    const err = await listCommand.run(['--mode', 'lab-real']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    for (const mode of RUN_MODES) expect((err as Error).message).toContain(mode);
    expect(listCommand.usage).toContain('--mode sim|lab|lab-sim');
  });

  it("lists the lab-sim scenarios by lab-sim's tags (no sim-only or slow ones), without a bench", async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    // The loopback scenario runs in every world; the unplug/replug one is tagged sim-only and slow.
    const code = await listCommand.run(['--mode', 'lab-sim', '--grep', 'echoes 64 KiB byte-exact|20 unplug/replug cycles']);
    expect(code).toBe(0);
    expect(lines).toContain('scenarios/bulk/loopback.test.ts > high speed (wMaxPacketSize 512) > echoes 64 KiB byte-exact');
    expect(lines.filter((l) => l.includes('unplug/replug'))).toEqual([]);
  }, 60_000);
});
