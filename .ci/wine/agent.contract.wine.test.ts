/**
 * The device agent contract against the real agent under Windows node in Wine (`npm run test:wine`): run.sh
 * starts `usbfn-hil agent serve --backend win32 --worker in-process` under `wine node.exe` on 127.0.0.1 and
 * gives this file its URL (USBFN_HIL_WINE_AGENT_URL) and token (USBFN_HIL_AGENT_TOKEN); Linux node runs the
 * suite through the harness's own AgentClient.
 *
 * Wine has no GenericUSBFn.sys, and Wine 8.0's CfgMgr32 lacks CM_Register_Notification and stubs the
 * interface lists, so the suite runs with `device: 'none'`: the agent must say so honestly, and the Win32
 * backend's typed errors must reach this side as the same classes. See docs/win32-backend.md.
 */
import { describe, expect, it } from 'vitest';
import { ConfigRetError, UsageError } from '../../core/index.js';
import { agentSchemaHash } from '../../device-side/index.js';
import { AgentClient } from '../../harness/lab/index.js';
import { describeAgentContract } from '../../harness/lab/agent.contract.js';

const URL_ENV = 'USBFN_HIL_WINE_AGENT_URL';
/** Where the harness reads an agent's token from (harness/lab-config.ts DEFAULT_TOKEN_ENV). */
const TOKEN_ENV = 'USBFN_HIL_AGENT_TOKEN';
const url = process.env[URL_ENV];
const token = process.env[TOKEN_ENV];
if (url === undefined || url === '' || token === undefined || token === '') {
  throw new UsageError('INVALID_ARGUMENT', `${URL_ENV} and ${TOKEN_ENV} are not set: this file runs inside the Wine tier, which starts the agent under Wine (npm run test:wine)`);
}

const makeClient = (t?: string | null): AgentClient => new AgentClient({ url, token: t === undefined ? token : (t ?? undefined), retryDelayMs: 50 });

describe('the agent under Windows node in Wine', () => {
  it('is Windows node running the win32 backend with the worker in-process, on the same protocol as this harness', async () => {
    const health = await makeClient().checkVersion();
    expect(health.os.platform).toBe('win32');
    expect(health.worker).toMatchObject({ mode: 'in-process', state: 'ready' });
    expect(health.backend).toBe('win32');
    expect(health.ok).toBe(true);
    expect(health.schemaHash).toBe(agentSchemaHash());
  });

  it('says there is no USB function here: the interface list fails with the CONFIGRET of Wine 8.0\'s stub, as the problem', async () => {
    const { usbfn } = await makeClient().health();
    expect(usbfn).toMatchObject({ present: false, symbolicLink: null });
    expect(usbfn.problem).toMatch(/^\[CONFIGRET CR_FAILURE\(19\)\] CM_Get_Device_Interface_List_SizeW\(/);
  });

  it('answers the liveness probe without a token, and 401 LAB_AGENT_UNAUTHORIZED to a request without one', async () => {
    const probe = await fetch(`${url}/v1/health?probe=1`);
    expect(probe.status).toBe(200);
    expect(await probe.json()).toEqual({ ok: true });
    const refused = await fetch(`${url}/v1/health`);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('LAB_AGENT_UNAUTHORIZED');
  });

  it('sends the service start\'s CM_Register_Notification failure back as the Win32 backend\'s ConfigRetError', async () => {
    const client = makeClient();
    const lease = await client.acquireLease({ holder: 'wine tier', ttlMs: 60_000 });
    try {
      const session = await client.openSession({ leaseId: lease.leaseId, name: 'wine: service start', seed: 1, world: { fn: 'loopback', startService: false } });
      const err = await client.startService(session.sessionId, { timeoutMs: 10_000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigRetError);
      // Wine 8.0's CfgMgr32.dll has no CM_Register_Notification export: the binding answers CR_CALL_NOT_IMPLEMENTED without a call.
      expect(err).toMatchObject({ code: 'CONFIGRET', api: 'CM_Register_Notification', crName: 'CR_CALL_NOT_IMPLEMENTED' });
      expect((err as Error).message).toContain('no CM_Register_Notification export');
      // The session survives its service's failure and logs it.
      const { entries } = await client.log(session.sessionId);
      expect(entries.map((e) => e.kind)).toEqual(expect.arrayContaining(['session', 'start']));
      expect((await client.getSession(session.sessionId)).status.service).toBe('idle');
    } finally {
      await client.releaseLease(lease.leaseId);
    }
  });
});

describeAgentContract('agent under Windows node in Wine', makeClient, { hostConnected: false, device: 'none' });
