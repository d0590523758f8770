/**
 * Protocol v1 of the device agent: every request body, response and stream line as a TypeBox schema.
 *
 * One definition serves both ends (docs/agent-protocol.md): the agent validates requests and its own
 * responses against it, the harness's `AgentClient` validates every response and stream line, the OpenAPI
 * document at `GET /v1/schema` and its hash in `GET /v1/health` (version skew) are derived from it, and the
 * msw fake agent in the harness's tests is typed and checked by it. TypeBox schemas are plain JSON Schema,
 * and `Static<>` gives the TypeScript types, so nothing is declared twice.
 */
import { Type, type Static, type TLiteral, type TSchema } from '@sinclair/typebox';
import { DRIVER_SETTING_CHOICES } from '../../driver-settings.js';

/** The protocol's major version: a client refuses an agent with another one. */
export const AGENT_PROTOCOL_VERSION = 1;

/** Default TCP port of the agent (`usbfn-hil agent serve`). */
export const AGENT_DEFAULT_PORT = 7311;

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
/** Milliseconds since the Unix epoch on the agent's wall clock. */
const WallMs = Type.Number({ description: 'ms since the Unix epoch, agent wall clock' });

// ---- errors --------------------------------------------------------------------------------------

/** The serialized form of every harness error (core/errors.ts `HarnessErrorJSON`), cause chain included. */
export const HarnessErrorJson = Type.Recursive(
  (This) =>
    Type.Object({
      name: Type.String(),
      code: Type.String(),
      message: Type.String(),
      data: Type.Record(
        Type.String(),
        Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null(), Type.Array(Type.Union([Type.String(), Type.Number()]))]),
      ),
      cause: Type.Optional(Type.Union([This, Type.Object({ name: Type.String(), message: Type.String() })])),
    }),
  { $id: 'HarnessErrorJson' },
);

/** Every non-2xx answer: one envelope, carrying the typed error so the harness rebuilds the same class. */
export const ErrorEnvelope = Type.Object(
  {
    error: Type.Object({
      /** Stable code: `LAB_AGENT_*` for infrastructure, `SERVICE_CRASHED`/`SERVICE_HUNG`, or the error's own code. */
      code: Type.String(),
      message: Type.String(),
      /** What the caller can do about it. */
      fix: Type.Optional(Type.String()),
      harnessError: Type.Optional(HarnessErrorJson),
    }),
  },
  { $id: 'ErrorEnvelope' },
);
export type ErrorEnvelope = Static<typeof ErrorEnvelope>;

// ---- health ----------------------------------------------------------------------------------------

export const WorkerState = Type.Union(
  ['starting', 'ready', 'crashed', 'hung', 'restarting', 'stopped'].map((s) => Type.Literal(s)),
  { $id: 'WorkerState' },
);

export const FaultKindName = Type.Union(
  ['failIoctl', 'dropNotification', 'pnp', 'closeHandle', 'restartService', 'crashWorker', 'hangWorker'].map((s) => Type.Literal(s)),
);

export const LeaseInfo = Type.Object(
  {
    leaseId: Type.String(),
    holder: Type.String(),
    runId: Type.Optional(Type.String()),
    expiresAtMs: WallMs,
  },
  { $id: 'LeaseInfo' },
);
export type LeaseInfo = Static<typeof LeaseInfo>;

/** `GET /v1/health?probe=1`: liveness only, the one unauthenticated answer. */
export const Liveness = Type.Object({ ok: Type.Literal(true) }, { $id: 'Liveness' });

/** The four driver settings, as `UsbFnDriverSettings` (device-side/driver-settings.ts). */
function DriverSettingsJson() {
  const oneOf = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)) as TLiteral<T>[]);
  return Type.Object({
    statusHandshake: oneOf(DRIVER_SETTING_CHOICES.statusHandshake),
    busEventBytes: oneOf(DRIVER_SETTING_CHOICES.busEventBytes),
    /** `'auto'` or a USBFNPIPEID. */
    ep0PipeId: Type.Union([Type.Literal('auto'), Type.Integer({ minimum: 0, maximum: 0xffffffff })]),
    zeroLengthIn: oneOf(DRIVER_SETTING_CHOICES.zeroLengthIn),
  });
}

export const Health = Type.Object(
  {
    ok: Type.Boolean(),
    agentVersion: Type.String(),
    protocol: Type.Integer(),
    /** sha256 of the canonical OpenAPI document: equal on both ends, or the client stops with VERSION_MISMATCH. */
    schemaHash: Type.String(),
    /** The agent's wall clock at the answer: the harness estimates the clock offset from the round trip. */
    nowMs: WallMs,
    uptimeMs: Type.Number(),
    node: Type.String(),
    os: Type.Object({ platform: Type.String(), release: Type.String(), arch: Type.String() }),
    /** `fake`: a scripted port, for the agent's own tests only. */
    backend: Type.Union([Type.Literal('win32'), Type.Literal('sim'), Type.Literal('fake')]),
    bench: Type.Object({ id: Type.String(), tags: Type.Array(Type.String()) }),
    lease: Nullable(LeaseInfo),
    worker: Type.Object({
      state: WorkerState,
      /** `process`: a supervised child process; `in-process`: where child-process IPC is unavailable (Wine). */
      mode: Type.Union([Type.Literal('process'), Type.Literal('in-process')]),
      pid: Nullable(Type.Integer()),
      restarts: Type.Integer(),
      lastExit: Type.Optional(Type.String()),
    }),
    usbfn: Type.Object({
      interfaceGuid: Type.String(),
      /** Whether an interface of that class is present right now (CM_Get_Device_Interface_List). */
      present: Type.Boolean(),
      symbolicLink: Nullable(Type.String()),
      /** Why `present` could not be determined, when it could not (e.g. no cfgmgr32 on this OS). */
      problem: Type.Optional(Type.String()),
    }),
    /** PnP verbs this agent may run (only with --allow-pnp) and this Windows build offers. */
    pnp: Type.Object({ allowed: Type.Boolean(), verbs: Type.Array(Type.String()) }),
    /** Fault kinds this agent accepts on `POST /v1/sessions/{id}/faults`. */
    faults: Type.Array(FaultKindName),
    sessionId: Nullable(Type.String()),
    /**
     * The driver settings every session's service runs with (docs/win32-backend.md#driver-settings): the
     * defaults, or what `--driver-settings` gave. Optional: added within v1.
     */
    driverSettings: Type.Optional(DriverSettingsJson()),
  },
  { $id: 'Health' },
);
export type Health = Static<typeof Health>;

// ---- leases -----------------------------------------------------------------------------------------

export const LeaseRequest = Type.Object(
  {
    /** Who holds the bench (e.g. `ci-runner-3 pid 4711`): shown to others on 409. */
    holder: Type.String({ minLength: 1, maxLength: 200 }),
    runId: Type.Optional(Type.String({ maxLength: 200 })),
    ttlMs: Type.Integer({ minimum: 1_000, maximum: 3_600_000 }),
  },
  { $id: 'LeaseRequest', additionalProperties: false },
);
export type LeaseRequest = Static<typeof LeaseRequest>;

export const LeaseRenewRequest = Type.Object(
  { ttlMs: Type.Optional(Type.Integer({ minimum: 1_000, maximum: 3_600_000 })) },
  { $id: 'LeaseRenewRequest', additionalProperties: false },
);

// ---- sessions ---------------------------------------------------------------------------------------

export const ServiceStateName = Type.Union(
  ['idle', 'waitingForInterface', 'opening', 'active', 'closedForRemoval', 'stopping', 'stopped'].map((s) => Type.Literal(s)),
  { $id: 'ServiceState' },
);
export const BusStateName = Type.Union(
  ['unknown', 'attached', 'default', 'configured', 'suspended', 'detached'].map((s) => Type.Literal(s)),
  { $id: 'BusState' },
);

/** What the device side looks like (the harness's `DeviceStatus`). */
export const DeviceStatusJson = Type.Object(
  {
    service: ServiceStateName,
    bus: BusStateName,
    openCount: Type.Integer(),
    symbolicLink: Nullable(Type.String()),
  },
  { $id: 'DeviceStatus' },
);
export type DeviceStatusJson = Static<typeof DeviceStatusJson>;

/** The world a scenario asks for, as far as the device side is concerned. */
export const SessionWorld = Type.Object(
  {
    fn: Type.Union([Type.Literal('loopback'), Type.Literal('sourceSink')]),
    busEventDepth: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
    startService: Type.Optional(Type.Boolean()),
    /** Record a device trace (every IOCTL and CM notification) for this session. */
    trace: Type.Optional(Type.Boolean()),
    /** sim backend only: the simulated bus speed (the bench's real speed is a bench property in lab). */
    speed: Type.Optional(Type.Union([Type.Literal('full'), Type.Literal('high'), Type.Literal('super')])),
  },
  { additionalProperties: false },
);

export const SessionOpenRequest = Type.Object(
  {
    leaseId: Type.String({ minLength: 1 }),
    /** The scenario's full name (shown in the agent's log). */
    name: Type.String({ maxLength: 1_000 }),
    seed: Type.Integer({ minimum: 0, maximum: 0xffffffff }),
    world: SessionWorld,
  },
  { $id: 'SessionOpenRequest', additionalProperties: false },
);
export type SessionOpenRequest = Static<typeof SessionOpenRequest>;

export const SessionInfo = Type.Object(
  {
    sessionId: Type.String(),
    functionName: Type.String(),
    status: DeviceStatusJson,
    /** The agent's wall clock when the session opened (device log times are relative to the session). */
    openedAtMs: WallMs,
  },
  { $id: 'SessionInfo' },
);
export type SessionInfo = Static<typeof SessionInfo>;

export const ServiceCommandRequest = Type.Object(
  { timeoutMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })) },
  { $id: 'ServiceCommandRequest', additionalProperties: false },
);

export const StatusResponse = Type.Object({ status: DeviceStatusJson }, { $id: 'StatusResponse' });

export const WaitRequest = Type.Object(
  {
    until: Type.Union([Type.Literal('configured'), Type.Literal('active'), Type.Literal('waiting')]),
    timeoutMs: Type.Integer({ minimum: 0, maximum: 600_000 }),
  },
  { $id: 'WaitRequest', additionalProperties: false },
);
export type WaitRequest = Static<typeof WaitRequest>;

export const WaitResponse = Type.Object(
  { status: DeviceStatusJson, atMs: Type.Number({ description: 'ms since the session opened' }) },
  { $id: 'WaitResponse' },
);

/** One device event log entry (the service's `DeviceLogEntry`), numbered for the stream's cursor. */
export const DeviceLogEntryJson = Type.Object(
  {
    seq: Type.Integer({ minimum: 1 }),
    /** ms on the service's clock since the session opened. */
    timeMs: Type.Number(),
    wallMs: WallMs,
    level: Type.Union([Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')]),
    kind: Type.String(),
    detail: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    error: Type.Optional(HarnessErrorJson),
  },
  { $id: 'DeviceLogEntry' },
);
export type DeviceLogEntryJson = Static<typeof DeviceLogEntryJson>;

export const DeviceLogResponse = Type.Object(
  { entries: Type.Array(DeviceLogEntryJson), dropped: Type.Integer({ minimum: 0 }) },
  { $id: 'DeviceLogResponse' },
);
export type DeviceLogResponse = Static<typeof DeviceLogResponse>;

/**
 * One line of `GET /v1/sessions/{id}/events` (NDJSON): an entry, a heartbeat every `heartbeatMs` while the
 * stream is idle, or a gap when the cursor fell off the ring (the entries `fromSeq..toSeq` are lost).
 */
export const EventLine = Type.Union(
  [
    Type.Object({ type: Type.Literal('entry'), entry: DeviceLogEntryJson }),
    Type.Object({ type: Type.Literal('heartbeat'), wallMs: WallMs, lastSeq: Type.Integer({ minimum: 0 }) }),
    Type.Object({ type: Type.Literal('gap'), fromSeq: Type.Integer(), toSeq: Type.Integer(), dropped: Type.Integer({ minimum: 1 }) }),
  ],
  { $id: 'EventLine' },
);
export type EventLine = Static<typeof EventLine>;

// ---- faults -----------------------------------------------------------------------------------------

/** Faults a real bench can do on the device, each labelled for what it is. */
export const FaultRequest = Type.Union(
  [
    /** Fail the nth matching IOCTL with a Win32 error, in the fault-injecting UsbFnPort decorator. */
    Type.Object(
      {
        kind: Type.Literal('failIoctl'),
        ioctl: Type.String({ minLength: 1, maxLength: 80 }),
        win32: Type.Integer({ minimum: 1, maximum: 0xffff }),
        count: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000 })),
        nth: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000 })),
        pipe: Type.Optional(Type.Integer({ minimum: 0, maximum: 31 })),
      },
      { additionalProperties: false },
    ),
    /** Drop the next `count` CM notifications of an action, in the same decorator. */
    Type.Object(
      {
        kind: Type.Literal('dropNotification'),
        action: Type.String({ minLength: 1, maxLength: 80 }),
        count: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000 })),
      },
      { additionalProperties: false },
    ),
    /** Real PnP on the function's devnode through pnputil (agent started with --allow-pnp). */
    Type.Object(
      { kind: Type.Literal('pnp'), verb: Type.Union([Type.Literal('disable'), Type.Literal('enable'), Type.Literal('restart')]) },
      { additionalProperties: false },
    ),
    /** CloseHandle of the service's interface handle behind its back. */
    Type.Object({ kind: Type.Literal('closeHandle') }, { additionalProperties: false }),
    /** Stop and start the device-side service. */
    Type.Object({ kind: Type.Literal('restartService') }, { additionalProperties: false }),
    /** Self-test of the supervision (agent started with --allow-self-test): the worker exits / stops answering. */
    Type.Object({ kind: Type.Literal('crashWorker') }, { additionalProperties: false }),
    Type.Object({ kind: Type.Literal('hangWorker') }, { additionalProperties: false }),
  ],
  { $id: 'FaultRequest' },
);
export type FaultRequest = Static<typeof FaultRequest>;

export const FaultAccepted = Type.Object(
  {
    faultId: Type.String(),
    kind: FaultKindName,
    /** How the report labels it: `injected at the seam`, `real PnP`, `real`, `self-test`. */
    label: Type.String(),
  },
  { $id: 'FaultAccepted' },
);
export type FaultAccepted = Static<typeof FaultAccepted>;

export const SessionClosed = Type.Object({ log: DeviceLogResponse }, { $id: 'SessionClosed' });

export const WorkerRestarted = Type.Object(
  { worker: Type.Object({ state: WorkerState, pid: Nullable(Type.Integer()), restarts: Type.Integer() }) },
  { $id: 'WorkerRestarted' },
);
