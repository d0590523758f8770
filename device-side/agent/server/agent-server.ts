/**
 * The agent's HTTP server (fastify 5): every route of `AGENT_ROUTES`, each request validated against the
 * protocol's TypeBox schemas, a token on everything but the liveness probe, a body limit, one deadline per
 * request (`usbfn-deadline-ms` → 504 LAB_AGENT_DEADLINE), `Idempotency-Key` on POST, and every non-2xx
 * answer as the `ErrorEnvelope` (docs/agent-protocol.md).
 *
 * Binds 127.0.0.1:7311 unless told otherwise. fastify's request log carries method, URL, address and status,
 * never headers (and the Authorization header is redacted besides), so the token is never logged.
 */
import type { Writable } from 'node:stream';
import type { Socket } from 'node:net';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { UsageError } from '../../../core/index.js';
import { AgentError, errorEnvelope } from '../agent-error.js';
import {
  AGENT_HEADER,
  AGENT_ROUTES,
  agentOpenApiDocument,
  MAX_BODY_BYTES,
  NDJSON,
  routerPath,
  type FaultRequest,
  type LeaseRequest,
  type SessionOpenRequest,
  type WaitRequest,
} from '../protocol/index.js';
import { TokenCheck } from './agent-token.js';
import { DeviceAgent, WALL_CLOCK, type DeviceAgentOptions } from './device-agent.js';
import { IdempotencyCache, type StoredAnswer } from './idempotency-cache.js';
import { DEFAULT_LISTEN, type ListenAddress } from './listen-address.js';

export interface AgentServerOptions extends DeviceAgentOptions {
  /** The token every request but the liveness probe must carry (`Authorization: Bearer <token>`). */
  readonly token: string;
  /** Default 127.0.0.1:7311 (a missing host or port takes its default). */
  readonly listen?: Partial<ListenAddress> | undefined;
  /** Where the JSON log lines go (pino). Default stdout; `false` for none. */
  readonly logStream?: NodeJS.WritableStream | false | undefined;
  readonly logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | undefined;
  readonly idempotency?: { readonly ttlMs?: number; readonly maxEntries?: number } | undefined;
  /** The whole request (headers and body) must arrive within this (slow-loris bound). Default 30 000 ms. */
  readonly requestTimeoutMs?: number | undefined;
  /** Longest `usbfn-deadline-ms` accepted. Default 1 hour. */
  readonly maxDeadlineMs?: number | undefined;
}

/** An agent answering on a socket. */
export interface StartedAgentServer extends AsyncDisposable {
  readonly app: FastifyInstance;
  readonly agent: DeviceAgent;
  /** `http://host:port` actually bound (port 0 → the ephemeral port). */
  readonly url: string;
  readonly address: ListenAddress;
  close(): Promise<void>;
}

/** What a route handler answers. */
type Answer = StoredAnswer | { readonly status: 200; readonly stream: NodeJS.ReadableStream } | { readonly status: 200; readonly ndjson: readonly string[] };

interface RequestState {
  readonly signal: AbortSignal;
  readonly abort: (reason: AgentError) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Called when the deadline passes after the answer started (a stream). */
  onLateDeadline: (() => void) | undefined;
}

const STATE = Symbol('usbfn-hil agent request state');
type AgentRequest = FastifyRequest & { [STATE]?: RequestState };

const badRequest = (what: string, fix: string, data: Record<string, string | number> = {}): AgentError => new AgentError('LAB_AGENT_BAD_REQUEST', what, fix, data);

/** Maps fastify's own errors (validation, body parsing, limits) to agent errors. */
function fromFastifyError(err: unknown, request: FastifyRequest): unknown {
  if (err instanceof AgentError || typeof err !== 'object' || err === null) return err;
  const e = err as { code?: string; statusCode?: number; message?: string; validation?: unknown; validationContext?: string };
  const route = `${request.method} ${request.routeOptions.url ?? request.url}`;
  const spec = `Send what the schema of ${route} asks for (GET /v1/schema).`;
  if (e.validation !== undefined) return badRequest(`${route}: ${e.message ?? 'invalid request'}`, spec);
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AgentError('LAB_AGENT_PAYLOAD_TOO_LARGE', `${route}: the body is larger than ${MAX_BODY_BYTES} bytes`, 'Every body of protocol v1 is small: check what is being sent.', {
        limitBytes: MAX_BODY_BYTES,
      });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return badRequest(`${route}: content-type '${request.headers['content-type'] ?? ''}' is not accepted`, 'Send the body as JSON with content-type: application/json.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return badRequest(`${route}: the body is empty but content-type says JSON`, `Send a JSON body (at least {}). ${spec}`);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return badRequest(`${route}: the body is not valid JSON (${e.message ?? ''})`, `Send one JSON object. ${spec}`);
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return badRequest(`${route}: ${e.message ?? 'bad request'}`, spec);
  }
  return err;
}

/** Answers malformed HTTP (unparseable request line, huge headers) with the envelope before fastify sees it. */
function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, text, why] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'the request headers are too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'the request was not received in time']
        : [400, 'Bad Request', `the request is not valid HTTP/1.1 (${err.code ?? 'parse error'})`];
  const body = JSON.stringify({ error: { code: 'LAB_AGENT_BAD_REQUEST', message: `[LAB_AGENT_BAD_REQUEST] ${why}`, fix: 'Send well-formed HTTP/1.1 (curl does).' } });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

/**
 * Builds the agent and its fastify app without listening (tests use `app.inject()`); `agent.start()` is
 * called here.
 */
export async function createAgentServer(options: AgentServerOptions): Promise<{ app: FastifyInstance; agent: DeviceAgent }> {
  const logStream = options.logStream ?? process.stdout;
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const app = Fastify({
    logger:
      logStream === false
        ? false
        : { level: options.logLevel ?? 'info', stream: logStream as unknown as Writable, redact: ['req.headers.authorization', 'headers.authorization'] },
    bodyLimit: MAX_BODY_BYTES,
    // Slow-loris bound: the whole request (headers and body) must arrive within this; Node checks every
    // connectionsCheckingInterval.
    requestTimeout,
    http: { headersTimeout: Math.min(10_000, requestTimeout), connectionsCheckingInterval: Math.max(50, Math.min(2_000, requestTimeout / 2)) },
    exposeHeadRoutes: false,
    return503OnClosing: true,
    // On close, streams still open (a follower that stopped reading) are cut rather than waited for.
    forceCloseConnections: true,
    clientErrorHandler,
    // Every failed check of a request is listed (a union's alternatives can give several).
    schemaErrorFormatter: (errors, dataVar) => new Error(errors.map((e) => `${dataVar}${e.instancePath} ${e.message ?? ''}`.trim()).join('; ')),
    // URLs the router refuses before any route or hook (bad %-encoding, an overlong id) get the envelope too.
    frameworkErrors: (err, _request, reply) => {
      const why = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path segment is longer than any id of the protocol' : 'the URL is not validly %-encoded';
      void (reply as FastifyReply).code(400).type('application/json').send(errorEnvelope(badRequest(why, 'Use the ids the agent gave (GET /v1/schema lists the routes).')).body);
    },
  });
  const agent = new DeviceAgent({ ...options, log: (level, message, data) => app.log[level](data ?? {}, message) });
  const tokens = new TokenCheck(options.token);
  const clock = options.clock ?? WALL_CLOCK;
  const idempotency = new IdempotencyCache(clock, options.idempotency);
  const maxDeadlineMs = options.maxDeadlineMs ?? 3_600_000;

  app.removeContentTypeParser(['text/plain']);
  // TypeBox's compiled checks: query and path text converted (`after=5` → 5), bodies taken as sent.
  app.setValidatorCompiler(TypeBoxValidatorCompiler);

  app.addHook('onRequest', async (request: AgentRequest, reply) => {
    const probe = request.routeOptions.url === '/v1/health' && (request.query as Record<string, unknown>)['probe'] === '1';
    if (!probe && !tokens.accepts(request.headers[AGENT_HEADER.AUTHORIZATION])) {
      throw new AgentError(
        'LAB_AGENT_UNAUTHORIZED',
        request.headers[AGENT_HEADER.AUTHORIZATION] === undefined ? 'the request has no Authorization header' : 'the token is wrong',
        "Send 'Authorization: Bearer <token>' with the agent's token (the harness reads it from USBFN_HIL_AGENT_TOKEN).",
      );
    }
    const controller = new AbortController();
    const state: RequestState = { signal: controller.signal, abort: (r) => controller.abort(r), timer: undefined, onLateDeadline: undefined };
    request[STATE] = state;
    const header = request.headers[AGENT_HEADER.DEADLINE_MS];
    if (header !== undefined) {
      const ms = typeof header === 'string' && /^\d{1,10}$/.test(header.trim()) ? Number(header) : NaN;
      if (!(ms >= 1 && ms <= maxDeadlineMs)) {
        throw badRequest(`the ${AGENT_HEADER.DEADLINE_MS} header must be a whole number of milliseconds from 1 to ${maxDeadlineMs}`, 'Send the time the caller will wait for this request, e.g. usbfn-deadline-ms: 10000.');
      }
      state.timer = setTimeout(() => {
        const late = new AgentError('LAB_AGENT_DEADLINE', `${request.method} ${request.url} was not done within its deadline of ${ms} ms`, 'The operation may still complete on the device: check the session status, or give the request more time.', {
          deadlineMs: ms,
        });
        controller.abort(late);
        if (reply.sent) state.onLateDeadline?.();
        else sendAnswer(reply, errorEnvelope(late)).catch((err: unknown) => request.log.error({ err }, 'sending the deadline answer failed'));
      }, ms);
    }
    // The caller went away before the answer was complete: stop waiting for it.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) controller.abort(new AgentError('LAB_AGENT_DEADLINE', 'the client closed the connection', 'Nothing to do: the request was abandoned.'));
    });
  });
  app.addHook('onResponse', async (request: AgentRequest) => {
    const state = request[STATE];
    if (state?.timer !== undefined) clearTimeout(state.timer);
  });
  app.addHook('preClose', async () => {
    await agent.close();
  });

  app.setErrorHandler(async (err, request, reply) => {
    const { status, body } = errorEnvelope(fromFastifyError(err, request));
    if (status >= 500) request.log.error({ code: body.error.code, msg: body.error.message }, 'request failed');
    if (!reply.sent) await reply.code(status).type('application/json').send(body);
  });
  app.setNotFoundHandler(async (request, reply) => {
    const known = AGENT_ROUTES.filter((r) => new RegExp(`^${routerPath(r.path).replace(/:\w+/g, '[^/]+')}$`).test(request.url.split('?')[0] ?? ''));
    const why = known.length > 0 ? `${request.method} is not a method of ${request.url.split('?')[0]} (it has ${known.map((r) => r.method).join(', ')})` : `there is no route ${request.method} ${request.url.split('?')[0]}`;
    const err = new AgentError('LAB_AGENT_NOT_FOUND', why, 'See the routes in GET /v1/schema (docs/agent-protocol.md).');
    await reply.code(404).type('application/json').send(errorEnvelope(err).body);
  });

  const handlers = routeHandlers(agent, options);
  for (const route of AGENT_ROUTES) {
    const handler = handlers[route.operationId];
    if (handler === undefined) throw new Error(`agent server: no handler for ${route.operationId}`);
    app.route({
      method: route.method,
      url: routerPath(route.path),
      schema: {
        ...(route.params === undefined ? {} : { params: route.params }),
        ...(route.query === undefined ? {} : { querystring: route.query }),
        ...(route.body === undefined ? {} : { body: route.body }),
      },
      handler: async (request: AgentRequest, reply) => {
        const state = request[STATE]!;
        const act = async (): Promise<StoredAnswer> => toStored(await answer(() => handler(request, state.signal), state.signal));
        const key = request.headers[AGENT_HEADER.IDEMPOTENCY_KEY];
        let result: Answer;
        if (route.method === 'POST' && key !== undefined) {
          result = await idempotency.run(String(key), { method: route.method, path: request.url, body: request.body }, act);
        } else {
          result = await answer(() => handler(request, state.signal), state.signal);
        }
        if ('stream' in result) state.onLateDeadline = () => (result.stream as { finish?: () => void }).finish?.();
        await sendAnswer(reply, result);
        return reply;
      },
    });
  }
  await agent.start();
  return { app, agent };
}

/** Runs a handler; failures become envelopes (an aborted wait answers the abort reason: the deadline). */
async function answer(run: () => Promise<Answer>, signal: AbortSignal): Promise<Answer> {
  try {
    return await run();
  } catch (err) {
    return errorEnvelope(signal.aborted && signal.reason instanceof AgentError ? signal.reason : err);
  }
}

function toStored(a: Answer): StoredAnswer {
  if ('stream' in a || 'ndjson' in a) throw new Error('agent server: a streamed answer cannot be stored for an Idempotency-Key');
  return a;
}

async function sendAnswer(reply: FastifyReply, a: Answer): Promise<void> {
  if (reply.sent) return;
  if ('stream' in a) {
    await reply.code(200).type(NDJSON).header('cache-control', 'no-store').header('x-accel-buffering', 'no').send(a.stream);
  } else if ('ndjson' in a) {
    await reply.code(200).type(NDJSON).send(a.ndjson.map((l) => `${l}\n`).join(''));
  } else if (a.status === 204) {
    await reply.code(204).send();
  } else {
    await reply.code(a.status).type('application/json').send(a.body);
  }
}

type Handler = (request: FastifyRequest, signal: AbortSignal) => Promise<Answer>;

const ok = (status: number, body: unknown): StoredAnswer => ({ status, body });

/** The handler of each operation of the route table. */
function routeHandlers(agent: DeviceAgent, options: AgentServerOptions): Readonly<Record<string, Handler>> {
  const params = (r: FastifyRequest): Record<string, string> => r.params as Record<string, string>;
  const sid = (r: FastifyRequest): string => params(r)['sessionId']!;
  const body = <T>(r: FastifyRequest): T => r.body as T;
  // The document is the same for the agent's lifetime: build it once.
  const schema = agentOpenApiDocument(options.agentVersion ?? '0.0.0');
  return {
    getHealth: async (r, signal) => ((r.query as { probe?: number }).probe === 1 ? ok(200, { ok: true }) : ok(200, await agent.health(signal))),
    getSchema: async () => ok(200, schema),
    acquireLease: async (r) => ok(201, agent.acquireLease(body<LeaseRequest>(r))),
    renewLease: async (r) => ok(200, agent.renewLease(params(r)['leaseId']!, body<{ ttlMs?: number }>(r).ttlMs)),
    releaseLease: async (r, signal) => {
      await agent.releaseLease(params(r)['leaseId']!, signal);
      return ok(204, undefined);
    },
    openSession: async (r, signal) => ok(201, await agent.openSession(body<SessionOpenRequest>(r), signal)),
    getSession: async (r, signal) => ok(200, await agent.getSession(sid(r), signal)),
    startService: async (r, signal) => ok(200, await agent.serviceCommand(sid(r), 'startService', body<{ timeoutMs?: number }>(r).timeoutMs, signal)),
    stopService: async (r, signal) => ok(200, await agent.serviceCommand(sid(r), 'stopService', body<{ timeoutMs?: number }>(r).timeoutMs, signal)),
    waitFor: async (r, signal) => ok(200, await agent.wait(sid(r), body<WaitRequest>(r), signal)),
    streamEvents: async (r) => ({ status: 200, stream: agent.events(sid(r), r.query as { after?: number; follow?: 0 | 1 }) }),
    getLog: async (r) => ok(200, agent.log(sid(r))),
    getTrace: async (r, signal) => ({ status: 200, ndjson: await agent.trace(sid(r), signal) }),
    injectFault: async (r, signal) => ok(202, await agent.injectFault(sid(r), body<FaultRequest>(r), signal)),
    closeSession: async (r, signal) => ok(200, await agent.closeSession(sid(r), signal)),
    restartWorker: async () => ok(200, await agent.restartWorker()),
  };
}

/**
 * Starts the agent on its address (127.0.0.1:7311 unless `listen` says otherwise).
 * @throws UsageError / listen errors (EADDRINUSE) with the address.
 */
export async function startAgentServer(options: AgentServerOptions): Promise<StartedAgentServer> {
  const { app, agent } = await createAgentServer(options);
  const listen: ListenAddress = { host: options.listen?.host ?? DEFAULT_LISTEN.host, port: options.listen?.port ?? DEFAULT_LISTEN.port };
  try {
    await app.listen({ host: listen.host, port: listen.port });
  } catch (err) {
    await app.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new UsageError(
        'AGENT_LISTEN',
        `cannot listen on ${listen.host}:${listen.port} (${code}): ${code === 'EADDRINUSE' ? 'another program (another agent?) uses the port' : code === 'EACCES' ? 'the account may not use this port' : 'no interface has this address'}; choose another with --listen host:port`,
        { host: listen.host, port: listen.port },
        { cause: err },
      );
    }
    throw err;
  }
  const bound = app.server.address();
  const address: ListenAddress = typeof bound === 'object' && bound !== null ? { host: bound.address, port: bound.port } : listen;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  const close = async (): Promise<void> => {
    await app.close();
  };
  return { app, agent, address, url: `http://${host}:${address.port}`, close, [Symbol.asyncDispose]: close };
}
