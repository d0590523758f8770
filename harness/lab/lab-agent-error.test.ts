import { processError } from '@vitest/utils/error';
import { describe, expect, it } from 'vitest';
import { errorFromJSON } from '../../core/index.js';
import { isLabInfrastructureError, LabAgentError, LabBenchError } from './lab-agent-error.js';

describe('LabAgentError', () => {
  it('reads [CODE] what: why. fix. and falls back to the fix of its code', () => {
    const err = new LabAgentError('LAB_AGENT_BUSY', { what: 'POST /v1/leases', why: 'the bench is held by "ci-3"', data: { holder: 'ci-3' } });
    expect(err.message).toBe('[LAB_AGENT_BUSY] POST /v1/leases: the bench is held by "ci-3". Wait for the holder to finish or its lease to expire, or raise lease.waitMs in the lab config.');
    expect(err.data).toEqual({ what: 'POST /v1/leases', holder: 'ci-3' });
    expect(new LabAgentError('LAB_AGENT_FAULT_UNSUPPORTED', { what: 'x', why: 'no such fault' }).message).toBe('[LAB_AGENT_FAULT_UNSUPPORTED] x: no such fault.');
    expect(isLabInfrastructureError(err)).toBe(true);
    expect(isLabInfrastructureError(new LabBenchError('LAB_BENCH_BROKEN', { what: 'bench b', why: 'w', fix: 'f' }))).toBe(true);
  });

  it('survives the trip to the report: vitest error processing and the JSON wire, cause chain included', () => {
    const err = new LabAgentError('LAB_AGENT_UNREACHABLE', { what: 'GET /v1/health', why: 'refused', cause: new Error('fetch failed', { cause: new Error('ECONNREFUSED') }) });
    const processed = processError(err) as { message: string; code: string };
    expect(processed).toMatchObject({ code: 'LAB_AGENT_UNREACHABLE', message: err.message });
    const back = errorFromJSON(JSON.parse(JSON.stringify(new LabAgentError('LAB_AGENT_STALLED', { what: 'w', why: 'y', cause: err }).toJSON())));
    expect(back).toMatchObject({ code: 'LAB_AGENT_STALLED', cause: { code: 'LAB_AGENT_UNREACHABLE' } });
  });
});
