/**
 * The route table of protocol v1: method, path, schemas of params/query/body and of every response. The
 * agent's server registers exactly these routes, the OpenAPI document is generated from them, and the
 * harness's client and fake agent are written against them.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import {
  DeviceLogResponse,
  ErrorEnvelope,
  FaultAccepted,
  FaultRequest,
  Health,
  LeaseInfo,
  LeaseRenewRequest,
  LeaseRequest,
  Liveness,
  ServiceCommandRequest,
  SessionClosed,
  SessionInfo,
  SessionOpenRequest,
  StatusResponse,
  WaitRequest,
  WaitResponse,
  WorkerRestarted,
} from './schemas.js';

/** Request headers of the protocol. */
export const AGENT_HEADER = {
  /** `Bearer <token>` on every route but the liveness probe. */
  AUTHORIZATION: 'authorization',
  /** A POST with a key the agent has seen answers the first answer again instead of acting twice. */
  IDEMPOTENCY_KEY: 'idempotency-key',
  /** The caller's deadline for this request: past it the agent gives up and answers 504 LAB_AGENT_DEADLINE. */
  DEADLINE_MS: 'usbfn-deadline-ms',
} as const;

/** Media type of the event stream: one JSON object per line (NDJSON). */
export const NDJSON = 'application/x-ndjson';

/** Largest request body the agent reads (bytes): every body of protocol v1 is small. */
export const MAX_BODY_BYTES = 64 * 1024;

/** What a response carries. */
export type ResponseSpec = TSchema | 'ndjson' | 'empty';

export interface RouteSpec {
  readonly operationId: string;
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** OpenAPI-style path with `{param}` placeholders. */
  readonly path: string;
  readonly summary: string;
  /** False only for the liveness probe. */
  readonly auth: boolean;
  readonly params?: TSchema;
  readonly query?: TSchema;
  readonly body?: TSchema;
  readonly responses: Readonly<Record<number, ResponseSpec>>;
}

const SessionParams = Type.Object({ sessionId: Type.String({ minLength: 1, maxLength: 64 }) });
const LeaseParams = Type.Object({ leaseId: Type.String({ minLength: 1, maxLength: 64 }) });
const EventsQuery = Type.Object({
  /** Stream entries with seq > after (0: from the oldest still held). */
  after: Type.Optional(Type.Integer({ minimum: 0 })),
  /** 1: keep the stream open and follow new entries (with heartbeats); 0: send what is held and end. */
  follow: Type.Optional(Type.Union([Type.Literal(0), Type.Literal(1)])),
});
const HealthQuery = Type.Object({ probe: Type.Optional(Type.Literal(1)) });

/** Error answers every authenticated route may give. */
const COMMON_ERRORS = { 400: ErrorEnvelope, 401: ErrorEnvelope, 413: ErrorEnvelope, 500: ErrorEnvelope, 504: ErrorEnvelope } as const;
const SESSION_ERRORS = { ...COMMON_ERRORS, 404: ErrorEnvelope, 409: ErrorEnvelope, 503: ErrorEnvelope } as const;

export const AGENT_ROUTES: readonly RouteSpec[] = [
  {
    operationId: 'getHealth',
    method: 'GET',
    path: '/v1/health',
    summary: 'Agent and protocol version, schema hash, backend, lease, worker, USBFN interface presence. With ?probe=1: liveness only, no token.',
    auth: true,
    query: HealthQuery,
    responses: { 200: Type.Union([Health, Liveness]), ...COMMON_ERRORS },
  },
  {
    operationId: 'getSchema',
    method: 'GET',
    path: '/v1/schema',
    summary: 'This protocol as an OpenAPI 3.0 document (its sha256 is the schemaHash of /v1/health).',
    auth: true,
    responses: { 200: Type.Object({}, { additionalProperties: true }), ...COMMON_ERRORS },
  },
  {
    operationId: 'acquireLease',
    method: 'POST',
    path: '/v1/leases',
    summary: 'Takes the bench: one holder at a time, until the TTL runs out unless renewed. 409 LAB_AGENT_BUSY names the holder.',
    auth: true,
    body: LeaseRequest,
    responses: { 201: LeaseInfo, ...COMMON_ERRORS, 409: ErrorEnvelope },
  },
  {
    operationId: 'renewLease',
    method: 'POST',
    path: '/v1/leases/{leaseId}/renew',
    summary: 'Extends the lease by its TTL (or the given one).',
    auth: true,
    params: LeaseParams,
    body: LeaseRenewRequest,
    responses: { 200: LeaseInfo, ...COMMON_ERRORS, 404: ErrorEnvelope },
  },
  {
    operationId: 'releaseLease',
    method: 'DELETE',
    path: '/v1/leases/{leaseId}',
    summary: 'Releases the lease and closes its session.',
    auth: true,
    params: LeaseParams,
    responses: { 204: 'empty', ...COMMON_ERRORS, 404: ErrorEnvelope },
  },
  {
    operationId: 'openSession',
    method: 'POST',
    path: '/v1/sessions',
    summary: "Opens a session with the scenario's world (one at a time: an open session of the same lease is closed first).",
    auth: true,
    body: SessionOpenRequest,
    responses: { 201: SessionInfo, ...SESSION_ERRORS },
  },
  {
    operationId: 'getSession',
    method: 'GET',
    path: '/v1/sessions/{sessionId}',
    summary: 'The session and the device status (service state, bus state, open count, symbolic link).',
    auth: true,
    params: SessionParams,
    responses: { 200: SessionInfo, ...SESSION_ERRORS },
  },
  {
    operationId: 'startService',
    method: 'POST',
    path: '/v1/sessions/{sessionId}/service/start',
    summary: 'Starts the device-side service (sessions opened with startService: false).',
    auth: true,
    params: SessionParams,
    body: ServiceCommandRequest,
    responses: { 200: StatusResponse, ...SESSION_ERRORS, 408: ErrorEnvelope },
  },
  {
    operationId: 'stopService',
    method: 'POST',
    path: '/v1/sessions/{sessionId}/service/stop',
    summary: 'Stops the service: cancel I/O, unregister notifications, close.',
    auth: true,
    params: SessionParams,
    body: ServiceCommandRequest,
    responses: { 200: StatusResponse, ...SESSION_ERRORS, 408: ErrorEnvelope },
  },
  {
    operationId: 'waitFor',
    method: 'POST',
    path: '/v1/sessions/{sessionId}/wait',
    summary: 'Waits on the device until the service is configured / active / waiting; 408 carries the TimeoutError.',
    auth: true,
    params: SessionParams,
    body: WaitRequest,
    responses: { 200: WaitResponse, ...SESSION_ERRORS, 408: ErrorEnvelope },
  },
  {
    operationId: 'streamEvents',
    method: 'GET',
    path: '/v1/sessions/{sessionId}/events',
    summary: 'The device event log as NDJSON from a cursor, with heartbeats while idle and a gap line when entries were dropped.',
    auth: true,
    params: SessionParams,
    query: EventsQuery,
    responses: { 200: 'ndjson', ...SESSION_ERRORS },
  },
  {
    operationId: 'getLog',
    method: 'GET',
    path: '/v1/sessions/{sessionId}/log',
    summary: 'The device event log held now (for the report attachment).',
    auth: true,
    params: SessionParams,
    responses: { 200: DeviceLogResponse, ...SESSION_ERRORS },
  },
  {
    operationId: 'getTrace',
    method: 'GET',
    path: '/v1/sessions/{sessionId}/trace',
    summary: 'The device trace of a session opened with trace: true (JSON lines: every IOCTL and CM notification).',
    auth: true,
    params: SessionParams,
    responses: { 200: 'ndjson', ...SESSION_ERRORS },
  },
  {
    operationId: 'injectFault',
    method: 'POST',
    path: '/v1/sessions/{sessionId}/faults',
    summary: 'Injects a fault a real bench can do (see health.faults); answered 202 and logged in the stream.',
    auth: true,
    params: SessionParams,
    body: FaultRequest,
    responses: { 202: FaultAccepted, ...SESSION_ERRORS, 422: ErrorEnvelope },
  },
  {
    operationId: 'closeSession',
    method: 'DELETE',
    path: '/v1/sessions/{sessionId}',
    summary: 'Stops the service and closes the session; answers the final log.',
    auth: true,
    params: SessionParams,
    responses: { 200: SessionClosed, ...SESSION_ERRORS },
  },
  {
    operationId: 'restartWorker',
    method: 'POST',
    path: '/v1/worker/restart',
    summary: "Kills and restarts the service worker (the bench's recovery step); the open session ends.",
    auth: true,
    body: Type.Object({}, { additionalProperties: false }),
    responses: { 200: WorkerRestarted, ...COMMON_ERRORS, 409: ErrorEnvelope, 503: ErrorEnvelope },
  },
];

/** HTTP status of each error code the agent answers with (infrastructure codes are `LAB_AGENT_*`). */
export const AGENT_ERROR_STATUS = {
  LAB_AGENT_BAD_REQUEST: 400,
  LAB_AGENT_UNAUTHORIZED: 401,
  LAB_AGENT_NOT_FOUND: 404,
  LAB_AGENT_NO_SESSION: 404,
  LAB_AGENT_BUSY: 409,
  /** The service refused a command its state does not allow (ServiceStateError, e.g. start twice). */
  SERVICE_STATE: 409,
  LAB_AGENT_PAYLOAD_TOO_LARGE: 413,
  LAB_AGENT_FAULT_UNSUPPORTED: 422,
  LAB_AGENT_INTERNAL: 500,
  /** pnputil ran but failed (not elevated, unknown devnode, a veto): the bench could not do the fault. */
  LAB_AGENT_PNP_FAILED: 500,
  LAB_AGENT_DEADLINE: 504,
  TIMEOUT: 408,
  SERVICE_CRASHED: 503,
  SERVICE_HUNG: 503,
  /** The backend could not start (no koffi, not Windows, a broken sim module): the bench is not usable. */
  LAB_AGENT_BACKEND_UNAVAILABLE: 503,
} as const;
export type AgentErrorCode = keyof typeof AGENT_ERROR_STATUS;

/** The fastify-style path (`:param`) of an OpenAPI-style route path (`{param}`). */
export function routerPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}
