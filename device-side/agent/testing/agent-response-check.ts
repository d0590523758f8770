/**
 * Checks an answer of the agent against the protocol: the route's table must list the status, and the body
 * must match that status's schema (JSON), be NDJSON lines (each an `EventLine` for the event stream), or be
 * empty. An answer of no route (404, a refused request) must be the `ErrorEnvelope`. Tests run every answer
 * through it, so the server cannot drift from the schema the harness's client validates against.
 */
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { AGENT_ROUTES, ErrorEnvelope, EventLine, NDJSON, routerPath, type RouteSpec } from '../protocol/index.js';

const compiled = new Map<TSchema, TypeCheck<TSchema>>();
function checker(schema: TSchema): TypeCheck<TSchema> {
  let c = compiled.get(schema);
  if (c === undefined) {
    c = TypeCompiler.Compile(schema);
    compiled.set(schema, c);
  }
  return c;
}

const ROUTE_PATTERNS = AGENT_ROUTES.map((r) => ({ route: r, pattern: new RegExp(`^${routerPath(r.path).replace(/:\w+/g, '[^/]+')}$`) }));

/** The route a request reached, if any. */
export function findAgentRoute(method: string, url: string): RouteSpec | undefined {
  const path = url.split('?')[0] ?? '';
  return ROUTE_PATTERNS.find((p) => p.route.method === method.toUpperCase() && p.pattern.test(path))?.route;
}

/** A protocol violation of one answer. */
export class AgentResponseMismatch extends Error {
  override readonly name = 'AgentResponseMismatch';
}

function checkJson(schema: TSchema, text: string, what: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AgentResponseMismatch(`${what}: the body is not JSON: ${text.slice(0, 200)}`);
  }
  const c = checker(schema);
  if (!c.Check(value)) {
    const e = c.Errors(value).First();
    throw new AgentResponseMismatch(`${what}: the body does not match its schema at '${e?.path ?? ''}': ${e?.message ?? '?'} — ${text.slice(0, 300)}`);
  }
  return value;
}

function parseLine(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AgentResponseMismatch(`${what}: not JSON: ${text.slice(0, 200)}`);
  }
}

/**
 * Checks one answer; returns the parsed JSON body (or the parsed lines of an NDJSON answer).
 * @throws AgentResponseMismatch naming the route, status and what did not match.
 */
export function checkAgentResponse(method: string, url: string, status: number, contentType: string | undefined, body: string): unknown {
  const route = findAgentRoute(method, url);
  const what = `${method} ${url} → ${status}`;
  if (route === undefined) {
    // No route matched: only an error envelope may answer.
    if (status < 400 || status >= 600) throw new AgentResponseMismatch(`${what}: an unrouted request must be answered 4xx/5xx`);
    return checkJson(ErrorEnvelope, body, what);
  }
  const spec = route.responses[status];
  if (spec === undefined) {
    throw new AgentResponseMismatch(`${what}: status ${status} is not in the table of ${route.operationId} (${Object.keys(route.responses).join(', ')})`);
  }
  if (spec === 'empty') {
    if (body !== '') throw new AgentResponseMismatch(`${what}: expected no body, got ${body.slice(0, 100)}`);
    return undefined;
  }
  if (spec === 'ndjson') {
    if (!contentType?.startsWith(NDJSON)) throw new AgentResponseMismatch(`${what}: content-type ${contentType ?? '(none)'} is not ${NDJSON}`);
    if (body !== '' && !body.endsWith('\n')) throw new AgentResponseMismatch(`${what}: the NDJSON body does not end with a newline`);
    const lines = body.split('\n').filter((l) => l !== '');
    return lines.map((l, i) => (route.operationId === 'streamEvents' ? checkJson(EventLine, l, `${what} line ${i + 1}`) : parseLine(l, `${what} line ${i + 1}`)));
  }
  if (!contentType?.startsWith('application/json')) throw new AgentResponseMismatch(`${what}: content-type ${contentType ?? '(none)'} is not application/json`);
  return checkJson(spec, body, what);
}

/** What {@link checkedInject} gives back. */
export interface CheckedAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | number | undefined>;
  readonly body: string;
  /** The parsed JSON body (lines for NDJSON, undefined for none). */
  readonly json: unknown;
}

/** `app.inject()` whose answer is checked against the protocol with {@link checkAgentResponse}. */
export async function checkedInject(app: FastifyInstance, options: InjectOptions & { method: string; url: string }): Promise<CheckedAnswer> {
  const res = await app.inject(options);
  const contentType = res.headers['content-type'];
  const json = checkAgentResponse(options.method, options.url, res.statusCode, typeof contentType === 'string' ? contentType : undefined, res.body);
  return { status: res.statusCode, headers: res.headers, body: res.body, json };
}
