/**
 * The agent's token: where it comes from (the `USBFN_HIL_AGENT_TOKEN` environment variable or a token file
 * readable only by the agent's account) and how a request's `Authorization: Bearer …` is checked (in
 * constant time: both sides are hashed, then compared with `crypto.timingSafeEqual`). The token is never
 * logged and never put in an error message.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { openSync, closeSync, fstatSync, readFileSync } from 'node:fs';
import { UsageError } from '../../../core/index.js';

/** The environment variable the agent (and the harness) read the token from. */
export const AGENT_TOKEN_ENV = 'USBFN_HIL_AGENT_TOKEN';

/** Shortest token accepted (characters). The setup guide makes a 256-bit hex token (64 characters). */
export const MIN_TOKEN_LENGTH = 16;

const GENERATE = "node -e \"console.log(require('node:crypto').randomBytes(32).toString('hex'))\"";

function checkToken(token: string, where: string): string {
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new UsageError('AGENT_TOKEN', `the token in ${where} is ${token.length} characters long; it needs at least ${MIN_TOKEN_LENGTH}: make one with ${GENERATE}`);
  }
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new UsageError('AGENT_TOKEN', `the token in ${where} has spaces or non-ASCII characters; use a hex token: ${GENERATE}`);
  }
  return token;
}

/**
 * Reads a token file. On POSIX the file must not be readable or writable by group or others (mode 0600);
 * on Windows restrict it with icacls (docs/lab-setup.md): Node cannot read Windows ACLs.
 * @throws UsageError AGENT_TOKEN_FILE for a missing file or loose permissions, AGENT_TOKEN for a bad token.
 */
export function readTokenFile(path: string, platform: NodeJS.Platform = process.platform): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new UsageError('AGENT_TOKEN_FILE', `cannot read the token file ${path}: ${(err as Error).message}`, { path }, { cause: err });
  }
  try {
    if (platform !== 'win32') {
      const mode = fstatSync(fd).mode & 0o777;
      if ((mode & 0o077) !== 0) {
        throw new UsageError(
          'AGENT_TOKEN_FILE',
          `the token file ${path} is accessible by group or others (mode 0${mode.toString(8)}): only the agent's account may read it; run chmod 600 ${path}`,
          { path, mode },
        );
      }
    }
    return checkToken(readFileSync(fd, 'utf8').trim(), path);
  } finally {
    closeSync(fd);
  }
}

/**
 * The token the agent requires: `--token-file` if given, else the environment variable.
 * @throws UsageError AGENT_TOKEN when there is none (the agent never runs without a token).
 */
export function loadAgentToken(options: { tokenFile?: string | undefined; env?: NodeJS.ProcessEnv; platform?: NodeJS.Platform }): string {
  if (options.tokenFile !== undefined) return readTokenFile(options.tokenFile, options.platform);
  const fromEnv = (options.env ?? process.env)[AGENT_TOKEN_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return checkToken(fromEnv.trim(), AGENT_TOKEN_ENV);
  throw new UsageError(
    'AGENT_TOKEN',
    `the agent needs a token: set ${AGENT_TOKEN_ENV} or pass --token-file <path> (a file only the agent's account can read); make one with ${GENERATE}`,
  );
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Checks `Authorization` header values against the token in constant time. */
export class TokenCheck {
  readonly #expected: Buffer;

  constructor(token: string) {
    this.#expected = digest(token);
  }

  /** True when `authorization` is `Bearer <the token>` (scheme case-insensitive). */
  accepts(authorization: string | readonly string[] | undefined): boolean {
    if (typeof authorization !== 'string') return false;
    const m = /^bearer +(\S+) *$/i.exec(authorization);
    // Hash even a malformed header, so the time does not tell a malformed header from a wrong token.
    const given = digest(m?.[1] ?? authorization);
    return timingSafeEqual(given, this.#expected) && m !== null;
  }
}
