import { describe, expect, it } from 'vitest';
import { UsageError } from '../core/index.js';
import { closestNames, escapeRegExp, scenarioPath, scenarioSelection } from './scenario-filter.js';

describe('scenario selection', () => {
  it('takes --filter literally: parentheses and question marks mean themselves', () => {
    const { namePattern } = scenarioSelection({ filter: 'loops back 64 bytes (full speed?) ok' });
    expect(new RegExp(namePattern!).test('full speed loops back 64 bytes (full speed?) ok')).toBe(true);
    expect(new RegExp(namePattern!).test('loops back 64 bytes full speed ok')).toBe(false);
    expect(escapeRegExp('a.b*c')).toBe('a\\.b\\*c');
  });

  it('turns --scenario into an anchored name pattern plus its file', () => {
    const path = scenarioPath('scenarios/bulk/loopback.test.ts', ['high speed (wMaxPacketSize 512)', 'echoes 1 MiB byte-exact']);
    expect(path).toBe('scenarios/bulk/loopback.test.ts > high speed (wMaxPacketSize 512) > echoes 1 MiB byte-exact');
    const sel = scenarioSelection({ scenario: path });
    expect(sel.files).toEqual(['scenarios/bulk/loopback.test.ts']);
    const re = new RegExp(sel.namePattern!);
    expect(re.test('high speed (wMaxPacketSize 512) echoes 1 MiB byte-exact')).toBe(true);
    expect(re.test('high speed (wMaxPacketSize 512) echoes 1 MiB byte-exact, twice')).toBe(false);
  });

  it('rejects two selections at once, empty text, a bad --grep and a malformed --scenario with a fix', () => {
    expect(() => scenarioSelection({ filter: 'a', grep: 'b' })).toThrow(/only one of --filter, --grep and --scenario/);
    expect(() => scenarioSelection({ filter: '  ' })).toThrow(UsageError);
    expect(() => scenarioSelection({ grep: '(' })).toThrow(/not a regular expression.*use --filter/);
    expect(() => scenarioSelection({ scenario: 'echoes 1 MiB' })).toThrow(/copy it from a replay line/);
    expect(scenarioSelection({})).toEqual({ namePattern: undefined, files: [], description: undefined });
  });

  it('suggests the names closest to a query that matched nothing', () => {
    const names = [
      'scenarios/bulk/loopback.test.ts > high speed > echoes 64 KiB byte-exact',
      'scenarios/control/stall.test.ts > stalls an unknown vendor request',
      'scenarios/bulk/loopback.test.ts > full speed > echoes a 4096-byte transfer byte-exact',
    ];
    expect(closestNames('echoes 4 KiB', names, 2)).toEqual([names[0], names[2]]);
    expect(closestNames('stall vendor', names, 1)).toEqual([names[1]]);
  });
});
