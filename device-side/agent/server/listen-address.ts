/**
 * The agent's listen address: `127.0.0.1:7311` by default; another one only when given explicitly
 * (`--listen host:port`), because anything but loopback exposes the agent to the network (token-protected,
 * but plain HTTP: docs/lab-setup.md has the firewall rule and the SSH-forward alternative).
 */
import { isIP } from 'node:net';
import { UsageError } from '../../../core/index.js';
import { AGENT_DEFAULT_PORT } from '../protocol/index.js';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export const DEFAULT_LISTEN: ListenAddress = { host: '127.0.0.1', port: AGENT_DEFAULT_PORT };

/** Whether `host` is a loopback address (the agent's default). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Parses `host:port`, `[v6]:port` or `:port` (loopback with another port).
 * @throws UsageError INVALID_ARGUMENT with an example of the accepted forms.
 */
export function parseListenAddress(text: string): ListenAddress {
  const bad = (why: string): UsageError =>
    new UsageError('INVALID_ARGUMENT', `--listen '${text}': ${why}; use host:port, e.g. --listen 127.0.0.1:7311, --listen 0.0.0.0:7311 or --listen [::1]:7311`);
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  if (m === null) throw bad('not of the form host:port');
  const host = m[1] ?? (m[2] === '' ? DEFAULT_LISTEN.host : m[2]!);
  const port = Number(m[3]);
  if (port > 65_535) throw bad(`port ${port} is not a TCP port (0..65535)`);
  if (m[1] !== undefined && isIP(host) !== 6) throw bad(`'${host}' in brackets is not an IPv6 address`);
  if (m[1] === undefined && host !== 'localhost' && isIP(host) !== 4 && !/^[a-z0-9.-]+$/i.test(host)) throw bad(`'${host}' is not a host name or IPv4 address`);
  return { host, port };
}
