import { TypeCompiler } from '@sinclair/typebox/compiler';
import { describe, expect, it } from 'vitest';
import { agentOpenApiDocument, agentSchemaHash } from './openapi.js';
import { AGENT_ROUTES, routerPath } from './routes.js';
import { ErrorEnvelope, EventLine, FaultRequest, Health, SessionOpenRequest } from './schemas.js';

describe('agent protocol v1', () => {
  it('pins the schema hash: a protocol change is deliberate (update the hash and the protocol docs together)', () => {
    expect(agentSchemaHash()).toBe('5c72723c827394bf5a8cf4d7ade7beb52a57bc55ce5350d25de0f0b4645a2817');
  });

  it('documents every route in the OpenAPI document, with bearer auth on all but none', () => {
    const doc = agentOpenApiDocument('1.2.3') as { paths: Record<string, Record<string, { security: unknown[] }>> };
    for (const r of AGENT_ROUTES) {
      const op = doc.paths[r.path]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.path}`).toBeDefined();
      expect(op!.security).toEqual(r.auth ? [{ bearer: [] }] : []);
    }
    expect(new Set(AGENT_ROUTES.map((r) => r.operationId)).size).toBe(AGENT_ROUTES.length);
  });

  it('turns OpenAPI paths into router paths', () => {
    expect(routerPath('/v1/sessions/{sessionId}/wait')).toBe('/v1/sessions/:sessionId/wait');
  });

  it('accepts golden messages and rejects broken ones', () => {
    const open = TypeCompiler.Compile(SessionOpenRequest);
    expect(open.Check({ leaseId: 'L1', name: 'bulk > echoes 4 KiB', seed: 0x1234, world: { fn: 'loopback', busEventDepth: 4 } })).toBe(true);
    expect(open.Check({ leaseId: 'L1', name: 'x', seed: -1, world: { fn: 'loopback' } })).toBe(false);
    expect(open.Check({ leaseId: 'L1', name: 'x', seed: 1, world: { fn: 'loopback', typo: 1 } })).toBe(false);

    const fault = TypeCompiler.Compile(FaultRequest);
    expect(fault.Check({ kind: 'failIoctl', ioctl: 'TRANSFER_OUT', win32: 31 })).toBe(true);
    expect(fault.Check({ kind: 'pnp', verb: 'unplug' })).toBe(false);

    const line = TypeCompiler.Compile(EventLine);
    expect(line.Check({ type: 'heartbeat', wallMs: 1, lastSeq: 0 })).toBe(true);
    expect(line.Check({ type: 'gap', fromSeq: 1, toSeq: 9, dropped: 9 })).toBe(true);
    expect(line.Check({ type: 'entry', entry: { seq: 1, timeMs: 0, wallMs: 1, level: 'info', kind: 'open' } })).toBe(true);
    expect(line.Check({ type: 'entry', entry: { seq: 0, timeMs: 0, wallMs: 1, level: 'info', kind: 'open' } })).toBe(false);

    const envelope = TypeCompiler.Compile(ErrorEnvelope);
    const win32 = { name: 'Win32Error', code: 'WIN32', message: '[WIN32 ERROR_GEN_FAILURE(31)] ...', data: { win32: 31, win32Name: 'ERROR_GEN_FAILURE' } };
    expect(envelope.Check({ error: { code: 'WIN32', message: 'x', harnessError: { ...win32, cause: win32 } } })).toBe(true);
    expect(envelope.Check({ error: { message: 'no code' } })).toBe(false);

    expect(TypeCompiler.Compile(Health).Check({ ok: true })).toBe(false);
  });
});
