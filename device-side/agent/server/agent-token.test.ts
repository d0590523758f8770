/** The agent's token: sources, file permissions, and the constant-time check. */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../core/index.js';
import { AGENT_TOKEN_ENV, loadAgentToken, readTokenFile, TokenCheck } from './agent-token.js';

const TOKEN = '0123456789abcdef0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'usbfn-agent-token-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('agent token', () => {
  it('reads a token file only when no group or other may access it (POSIX), trimming the line end', () => {
    const file = join(dir, 'token');
    writeFileSync(file, `${TOKEN}\n`);
    chmodSync(file, 0o600);
    expect(readTokenFile(file, 'linux')).toBe(TOKEN);
    chmodSync(file, 0o644);
    expect(() => readTokenFile(file, 'linux')).toThrow(/chmod 600/);
    chmodSync(file, 0o620);
    expect(() => readTokenFile(file, 'linux')).toThrow(UsageError);
    // Windows: ACLs are icacls' business (docs/lab-setup.md); the mode bits mean nothing there.
    expect(readTokenFile(file, 'win32')).toBe(TOKEN);
    expect(() => readTokenFile(join(dir, 'missing'), 'linux')).toThrow(/cannot read the token file/);
  });

  it('takes --token-file over the environment, refuses none, short or spaced tokens, and never echoes the token', () => {
    expect(loadAgentToken({ env: { [AGENT_TOKEN_ENV]: TOKEN } })).toBe(TOKEN);
    expect(() => loadAgentToken({ env: {} })).toThrow(/needs a token/);
    expect(() => loadAgentToken({ env: { [AGENT_TOKEN_ENV]: 'short' } })).toThrow(/at least 16/);
    const spaced = 'correct horse battery staple';
    let err: unknown;
    try {
      loadAgentToken({ env: { [AGENT_TOKEN_ENV]: spaced } });
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).not.toContain(spaced);
    const file = join(dir, 'token2');
    writeFileSync(file, 'f'.repeat(64), { mode: 0o600 });
    expect(loadAgentToken({ tokenFile: file, env: { [AGENT_TOKEN_ENV]: TOKEN }, platform: 'linux' })).toBe('f'.repeat(64));
  });

  it('accepts exactly "Bearer <token>" (scheme in any case) and nothing else', () => {
    const check = new TokenCheck(TOKEN);
    expect(check.accepts(`Bearer ${TOKEN}`)).toBe(true);
    expect(check.accepts(`bearer ${TOKEN}`)).toBe(true);
    for (const bad of [undefined, '', TOKEN, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, `Basic ${TOKEN}`, `Bearer  `, `Bearer ${TOKEN} extra`]) {
      expect(check.accepts(bad), String(bad)).toBe(false);
    }
    expect(check.accepts([`Bearer ${TOKEN}`])).toBe(false);
  });
});
