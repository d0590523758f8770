/**
 * The client's side of protocol v1's route table: each route's compiled response validators, so every
 * answer of the device agent is checked against the very schema the agent was built from
 * (device-side/agent/protocol). TypeBox's `TypeCompiler` turns each schema into a checker once.
 */
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { AGENT_ROUTES, ErrorEnvelope, EventLine, type RouteSpec } from '../../device-side/index.js';

/** The operations of protocol v1 the client calls, by their OpenAPI operationId. */
export const AGENT_OPERATIONS = [
  'getHealth',
  'getSchema',
  'acquireLease',
  'renewLease',
  'releaseLease',
  'openSession',
  'getSession',
  'startService',
  'stopService',
  'waitFor',
  'streamEvents',
  'getLog',
  'getTrace',
  'injectFault',
  'closeSession',
  'restartWorker',
] as const;
export type AgentOperation = (typeof AGENT_OPERATIONS)[number];

const byOperation = new Map(AGENT_ROUTES.map((r) => [r.operationId, r]));
const checkers = new WeakMap<TSchema, TypeCheck<TSchema>>();

/** The route of an operation. @throws Error when the protocol has no such operation (a harness bug). */
export function routeOf(operation: AgentOperation): RouteSpec {
  const route = byOperation.get(operation);
  if (route === undefined) throw new Error(`protocol v1 has no operation '${operation}': the client and device-side/agent/protocol disagree`);
  return route;
}

function checkerOf(schema: TSchema): TypeCheck<TSchema> {
  let c = checkers.get(schema);
  if (c === undefined) {
    c = TypeCompiler.Compile(schema);
    checkers.set(schema, c);
  }
  return c;
}

/** The first schema error of `value`, as `path: message (got …)`, or undefined when it conforms. */
export function firstSchemaError(schema: TSchema, value: unknown): string | undefined {
  const checker = checkerOf(schema);
  if (checker.Check(value)) return undefined;
  const first = checker.Errors(value).First();
  if (first === undefined) return 'does not match the schema';
  const got = JSON.stringify(first.value);
  return `${first.path === '' ? '(root)' : first.path}: ${first.message} (got ${got === undefined ? 'nothing' : got.length > 80 ? `${got.slice(0, 77)}...` : got})`;
}

/** The first schema error of an error envelope (every non-2xx answer), or undefined. */
export function envelopeError(value: unknown): string | undefined {
  return firstSchemaError(ErrorEnvelope, value);
}

/** The first schema error of one event-stream line, or undefined. */
export function eventLineError(value: unknown): string | undefined {
  return firstSchemaError(EventLine, value);
}
