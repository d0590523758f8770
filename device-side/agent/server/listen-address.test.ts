/** The listen address: loopback by default, explicit forms only. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LISTEN, isLoopback, parseListenAddress } from './listen-address.js';

describe('listen address', () => {
  it('defaults to 127.0.0.1:7311', () => {
    expect(DEFAULT_LISTEN).toEqual({ host: '127.0.0.1', port: 7311 });
    expect(isLoopback(DEFAULT_LISTEN.host)).toBe(true);
  });

  it('parses host:port, [v6]:port and :port', () => {
    expect(parseListenAddress('0.0.0.0:7311')).toEqual({ host: '0.0.0.0', port: 7311 });
    expect(parseListenAddress('[::1]:8000')).toEqual({ host: '::1', port: 8000 });
    expect(parseListenAddress(':0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListenAddress('bench-7.lab:7311')).toEqual({ host: 'bench-7.lab', port: 7311 });
    expect(isLoopback('0.0.0.0')).toBe(false);
    expect(isLoopback('127.0.0.2')).toBe(true);
  });

  it('refuses anything else with an example', () => {
    for (const bad of ['7311', '127.0.0.1', '127.0.0.1:70000', '[nothex]:1', 'a b:1', '1.2.3.4:-1', '::1:7311']) {
      expect(() => parseListenAddress(bad), bad).toThrow(/--listen 127\.0\.0\.1:7311/);
    }
  });
});
