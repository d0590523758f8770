/**
 * The OpenAPI 3.0 document of protocol v1, generated from the route table, and its hash. The agent serves
 * the document at `GET /v1/schema` and the hash in `GET /v1/health`; the harness compares the hash with its
 * own and stops with LAB_AGENT_VERSION_MISMATCH when the two ends were built from different protocols.
 */
import { createHash } from 'node:crypto';
import type { TSchema } from '@sinclair/typebox';
import { AGENT_PROTOCOL_VERSION } from './schemas.js';
import { AGENT_ROUTES, NDJSON, type RouteSpec } from './routes.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A schema as plain JSON (TypeBox adds symbol-keyed metadata that JSON does not carry). */
function plain(schema: TSchema): Json {
  return JSON.parse(JSON.stringify(schema)) as Json;
}

function parametersOf(route: RouteSpec): Json[] {
  const out: Json[] = [];
  for (const [where, schema] of [['path', route.params], ['query', route.query]] as const) {
    if (schema === undefined) continue;
    const props = (schema as { properties?: Record<string, TSchema> }).properties ?? {};
    const required = new Set((schema as { required?: string[] }).required ?? []);
    for (const [name, s] of Object.entries(props)) {
      out.push({ name, in: where, required: where === 'path' || required.has(name), schema: plain(s) });
    }
  }
  return out;
}

function responsesOf(route: RouteSpec): Json {
  const out: Record<string, Json> = {};
  for (const [status, spec] of Object.entries(route.responses)) {
    if (spec === 'empty') out[status] = { description: 'no content' };
    else if (spec === 'ndjson') out[status] = { description: 'NDJSON stream', content: { [NDJSON]: { schema: { type: 'string' } } } };
    else out[status] = { description: status.startsWith('2') ? 'ok' : 'error envelope', content: { 'application/json': { schema: plain(spec) } } };
  }
  return out;
}

/** The protocol as an OpenAPI 3.0 document. */
export function agentOpenApiDocument(agentVersion = '0'): Record<string, Json> {
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of AGENT_ROUTES) {
    const op: Record<string, Json> = {
      operationId: route.operationId,
      summary: route.summary,
      parameters: parametersOf(route),
      responses: responsesOf(route),
    };
    if (route.auth) op['security'] = [{ bearer: [] }];
    else op['security'] = [];
    if (route.body !== undefined) op['requestBody'] = { required: true, content: { 'application/json': { schema: plain(route.body) } } };
    (paths[route.path] ??= {})[route.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.0.3',
    info: { title: 'usbfn-hil device agent', version: `${AGENT_PROTOCOL_VERSION}.${agentVersion}` },
    servers: [{ url: 'http://127.0.0.1:7311' }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}

/** JSON with object keys sorted at every level, so the hash does not depend on insertion order. */
function canonical(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k]!)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** sha256 (hex) of the canonical protocol document (independent of the agent's own version). */
export function agentSchemaHash(): string {
  return createHash('sha256').update(canonical(agentOpenApiDocument())).digest('hex');
}
