/** The error envelope: status by code, the fix, and the typed error rebuilt on the other side. */
import { describe, expect, it } from 'vitest';
import { errorFromJSON, TimeoutError, Win32Error } from '../../core/index.js';
import { win32Error } from '../abi/index.js';
import { ServiceStateError } from '../index.js';
import { AgentError, agentErrorFromJSON, errorEnvelope, wireError } from './agent-error.js';

describe('errorEnvelope', () => {
  it('answers an AgentError with its status, message and fix', () => {
    const err = new AgentError('LAB_AGENT_BUSY', "the bench is leased by 'ci'", 'Wait for the lease.', { holder: 'ci' });
    expect(err.message).toBe("[LAB_AGENT_BUSY] the bench is leased by 'ci'. Wait for the lease.");
    const { status, body } = errorEnvelope(err);
    expect(status).toBe(409);
    expect(body.error).toMatchObject({ code: 'LAB_AGENT_BUSY', fix: 'Wait for the lease.', harnessError: { name: 'AgentError', data: { holder: 'ci', fix: 'Wait for the lease.' } } });
  });

  it('keeps a device error as itself: a Win32Error raised on the device is a Win32Error again on the harness', () => {
    const err = win32Error('DeviceIoControl', 31, { ioctl: 'IOCTL_GENERICUSBFN_TRANSFER_IN', target: 'pipe 2' });
    const { status, body } = errorEnvelope(err);
    expect(status).toBe(500);
    expect(body.error.code).toBe('WIN32');
    const rebuilt = errorFromJSON(JSON.parse(JSON.stringify(body.error.harnessError)));
    expect(rebuilt).toBeInstanceOf(Win32Error);
    expect(rebuilt).toMatchObject({ win32: 31, win32Name: 'ERROR_GEN_FAILURE', ioctl: 'IOCTL_GENERICUSBFN_TRANSFER_IN', message: err.message });
    expect(errorEnvelope(new TimeoutError('device configured', 30)).status).toBe(408);
    expect(errorEnvelope(new ServiceStateError('start', ['idle'], 'active')).status).toBe(409);
  });

  it('answers anything else as LAB_AGENT_INTERNAL with the cause', () => {
    const { status, body } = errorEnvelope(new TypeError('x is undefined'));
    expect(status).toBe(500);
    expect(body.error).toMatchObject({ code: 'LAB_AGENT_INTERNAL', message: expect.stringContaining('TypeError: x is undefined'), harnessError: { cause: { name: 'TypeError' } } });
  });

  it('rebuilds errors that crossed the worker channel: AgentError with its fix, other classes by name', () => {
    const agent = agentErrorFromJSON(wireError(new AgentError('SERVICE_HUNG', 'no pong', 'Restart.', {}, { cause: new TimeoutError('ping', 5) })));
    expect(agent).toBeInstanceOf(AgentError);
    expect(agent).toMatchObject({ code: 'SERVICE_HUNG', fix: 'Restart.', status: 503 });
    expect((agent as Error).cause).toBeInstanceOf(TimeoutError);
    const state = agentErrorFromJSON(wireError(new ServiceStateError('start', ['idle'], 'active')));
    expect(state).toMatchObject({ name: 'ServiceStateError', code: 'SERVICE_STATE' });
  });
});
