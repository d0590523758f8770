/**
 * Seeded generator of malformed and hostile requests for the agent's security tests: random paths (path
 * traversal, encodings, huge segments), methods, headers (bad tokens, content types, deadlines, idempotency
 * keys), bodies (schema-breaking mutations of valid ones, garbled and huge JSON, prototype keys) and bad
 * cursors. Each request says whether it is certainly refused (`mustRefuse`): then only a 4xx is right.
 */
import { AGENT_ROUTES, MAX_BODY_BYTES, routerPath } from '../protocol/index.js';

/** mulberry32: small, fast, seeded. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface HostileRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
  /** Certainly refused (bad token, unknown route, broken body, …): anything but a 4xx is a bug. */
  readonly mustRefuse: boolean;
  /** What made it hostile (for the report). */
  readonly kind: string;
}

/** Known-good ids the generator sometimes uses, to reach deeper code. */
export interface HostileTargets {
  readonly token: string;
  readonly sessionId: string;
  readonly leaseId: string;
}

const METHODS = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD', 'PROPFIND'];
const TRAVERSAL = ['../../etc/passwd', '..%2F..%2Fwindows%2Fwin.ini', '%2e%2e/%2e%2e/', '....//....//', '%00', '%ZZ', '\u00e9\u00e8', '%C0%AE%C0%AE/', ';rm -rf /', '<script>', "' OR 1=1 --", '${jndi:ldap://x}'];
const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', '', '\u0000', 'application/vnd.evil+json'];
const CURSORS = ['-1', '0', '1', 'abc', '1e309', '99999999999999999999', '', '%00', '1.5', '0x10', 'NaN', '1&after=2'];
const FOLLOWS = ['0', '1', '2', 'true', '', '-1'];

/** A sample valid body per operation (mutated by the generator). */
function sampleBody(operationId: string, t: HostileTargets): Record<string, unknown> | undefined {
  switch (operationId) {
    case 'acquireLease':
      return { holder: 'fuzz', runId: 'r', ttlMs: 60_000 };
    case 'renewLease':
      return { ttlMs: 60_000 };
    case 'openSession':
      return { leaseId: t.leaseId, name: 'fuzz', seed: 1, world: { fn: 'loopback', busEventDepth: 2, startService: true } };
    case 'startService':
    case 'stopService':
      return { timeoutMs: 100 };
    case 'waitFor':
      return { until: 'configured', timeoutMs: 50 };
    case 'injectFault':
      return { kind: 'failIoctl', ioctl: 'TRANSFER_OUT', win32: 31, count: 1 };
    case 'restartWorker':
      return {};
    default:
      return undefined;
  }
}

export class HostileRequestGenerator {
  readonly #rnd: () => number;
  readonly #t: HostileTargets;

  constructor(seed: number, targets: HostileTargets) {
    this.#rnd = seededRandom(seed);
    this.#t = targets;
  }

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#rnd() * items.length)]!;
  }

  #chance(p: number): boolean {
    return this.#rnd() < p;
  }

  #junk(max: number): string {
    const n = Math.floor(this.#rnd() * max);
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(32 + Math.floor(this.#rnd() * 95));
    return s;
  }

  #mutate(value: unknown, depth = 0): unknown {
    const replacements: unknown[] = [null, -1, 1.5, 2 ** 53, -0, 'x', '', true, [], {}, 'x'.repeat(300), [1, [2, [3]]], { $ref: '#' }];
    if (value === null || typeof value !== 'object' || depth > 3) return this.#chance(0.5) ? this.#pick(replacements) : value;
    const obj: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(obj);
    switch (Math.floor(this.#rnd() * 6)) {
      case 0:
        if (keys.length > 0) delete obj[this.#pick(keys)];
        break;
      case 1:
        if (keys.length > 0) obj[this.#pick(keys)] = this.#pick(replacements);
        break;
      case 2:
        obj[this.#pick(['extra', 'typo', '__proto__', 'constructor', 'prototype', ''])] = this.#pick(replacements);
        break;
      case 3:
        if (keys.length > 0) {
          const k = this.#pick(keys);
          obj[k] = this.#mutate(obj[k], depth + 1);
        }
        break;
      case 4:
        return this.#pick(replacements);
      default:
        break;
    }
    return obj;
  }

  #path(): { url: string; operationId: string | undefined; known: boolean } {
    if (this.#chance(0.15)) {
      const junk = this.#pick([
        `/${this.#pick(TRAVERSAL)}`,
        `/v1/${this.#pick(TRAVERSAL)}`,
        '/v2/health',
        '/',
        '*',
        '//v1//health',
        `/v1/${'a'.repeat(2_000)}`,
        `/v1/sessions/${this.#junk(20)}/nothing`,
        '/v1/health/',
        '/V1/HEALTH',
      ]);
      return { url: junk, operationId: undefined, known: false };
    }
    const route = this.#pick(AGENT_ROUTES);
    let url = routerPath(route.path).replace(/:(\w+)/g, (_m, name: string) => {
      const real = name === 'sessionId' ? this.#t.sessionId : this.#t.leaseId;
      return this.#chance(0.5) ? real : encodeURIComponent(this.#pick([...TRAVERSAL, 'S0', 'x'.repeat(this.#chance(0.5) ? 64 : 200), this.#junk(30)]));
    });
    if (route.operationId === 'streamEvents') {
      url += `?after=${this.#pick(CURSORS)}&follow=${this.#chance(0.9) ? this.#pick(FOLLOWS.filter((f) => f !== '1')) : '1'}`;
    } else if (route.operationId === 'getHealth' && this.#chance(0.5)) {
      url += `?probe=${this.#pick(['1', '0', '2', 'yes', ''])}`;
    } else if (this.#chance(0.1)) {
      url += `?${this.#junk(40)}`;
    }
    return { url, operationId: route.operationId, known: true };
  }

  /** The next hostile request. */
  next(): HostileRequest {
    const method = this.#chance(0.7) ? '' : this.#pick(METHODS);
    const { url, operationId } = this.#path();
    const route = AGENT_ROUTES.find((r) => r.operationId === operationId);
    const m = method === '' ? (route?.method ?? 'GET') : method;
    const headers: Record<string, string> = {};
    const kinds: string[] = [];
    let mustRefuse = route === undefined || m !== route.method;
    if (mustRefuse) kinds.push('route');

    const auth = this.#rnd();
    const probe = url.startsWith('/v1/health?probe=1') && m === 'GET';
    if (auth < 0.55) headers['authorization'] = `Bearer ${this.#t.token}`;
    else {
      kinds.push('token');
      if (!probe) mustRefuse = true;
      if (auth < 0.7) headers['authorization'] = `Bearer ${this.#t.token.slice(0, -1)}${this.#t.token.endsWith('0') ? '1' : '0'}`;
      else if (auth < 0.8) headers['authorization'] = this.#pick(['Bearer', 'Basic Zm9vOmJhcg==', this.#t.token, `Bearer  ${this.#t.token} x`, `bearer ${'a'.repeat(4_000)}`, 'Bearer \u00ff']);
      // else: no Authorization header
    }
    if (this.#chance(0.2)) {
      const d = this.#pick(['50', '0', '-1', 'abc', '99999999999', '', '1.5']);
      headers['usbfn-deadline-ms'] = d;
      if (d !== '50') {
        kinds.push('deadline');
        mustRefuse = true;
      }
    }
    if (m === 'POST' && this.#chance(0.15)) headers['idempotency-key'] = this.#pick(['k1', 'k2', 'bad key', 'x'.repeat(300), this.#junk(10)]);
    if (this.#chance(0.05)) headers[`x-${this.#junk(8).replace(/[^a-z]/gi, 'a') || 'a'}`] = 'v'.repeat(Math.floor(this.#rnd() * 8_000));

    let body: string | undefined;
    const sample = operationId === undefined ? undefined : sampleBody(operationId, this.#t);
    const b = this.#rnd();
    if (b < 0.35 && sample !== undefined) {
      body = JSON.stringify(this.#mutate(sample));
      kinds.push('mutated');
    } else if (b < 0.45) {
      body = this.#pick(['{', '{"a":', 'null', '[]', '1e999', '"str"', '{"__proto__":{"polluted":1}}', '{"a":1,"a":2}', '\u0000\u0001', '{"x":' + '['.repeat(5_000) + ']'.repeat(5_000) + '}', this.#junk(200)]);
      kinds.push('garbled');
      if (route?.body !== undefined && m === route.method) mustRefuse = true;
    } else if (b < 0.48) {
      body = JSON.stringify({ pad: 'x'.repeat(MAX_BODY_BYTES + Math.floor(this.#rnd() * 1_000)) });
      kinds.push('huge');
      // GET/HEAD bodies are not read; any other body past the limit is refused.
      if (m !== 'GET' && m !== 'HEAD') mustRefuse = true;
    } else if (sample !== undefined) {
      body = JSON.stringify(sample);
    }
    if (body !== undefined || this.#chance(0.1)) {
      const ct = this.#chance(0.75) ? 'application/json' : this.#pick(CONTENT_TYPES);
      if (ct !== '') headers['content-type'] = ct;
      if (!ct.startsWith('application/json') && body !== undefined) {
        kinds.push('content-type');
        if (route?.body !== undefined && m === route.method) mustRefuse = true;
      }
    }
    const query = new URLSearchParams(url.split('?')[1] ?? '');
    if (route?.operationId === 'streamEvents') {
      const after = query.getAll('after');
      const follow = query.getAll('follow');
      if (after.length > 1 || follow.length > 1 || !/^\d+$/.test(after[0] ?? '0') || !['0', '1'].includes(follow[0] ?? '0')) {
        kinds.push('cursor');
        mustRefuse = true;
      }
    }
    if (route?.operationId === 'getHealth' && query.has('probe') && query.getAll('probe').join() !== '1') {
      kinds.push('probe');
      mustRefuse = true;
    }
    return { method: m, url, headers, body, mustRefuse, kind: kinds.join('+') || 'plausible' };
  }
}
