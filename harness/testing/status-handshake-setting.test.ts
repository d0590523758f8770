/**
 * The `statusHandshake` setting of the real service, each way, over the simulator with a driver that takes
 * only HANDSHAKE_OUT (or only HANDSHAKE_IN) for class requests without a data stage
 * (docs/reference/documented-vs-inferred.md#drv-no-data-handshake, docs/win32-backend.md#driver-settings).
 */
import { describe, expect, it } from 'vitest';
import { TEST_REQUEST, isTimeout } from '../../core/index.js';
import type { StatusHandshakeSetting } from '../../device-side/index.js';
import { simWorld } from '../world/index.js';
import { RefusingHandshakePort } from './refusing-handshake-port.js';

async function world(refused: 'in' | 'out', statusHandshake: StatusHandshakeSetting | undefined) {
  let port: RefusingHandshakePort | undefined;
  const w = await simWorld()
    .withSeed(21)
    .withPort((p) => (port = new RefusingHandshakePort(p, refused)))
    .withService(statusHandshake === undefined ? {} : { driverSettings: { statusHandshake } })
    .start();
  const agent = await w.agent({ transferTimeoutMs: 500 });
  return {
    port: port!,
    service: w.service,
    agent,
    [Symbol.asyncDispose]: () => w.close(),
  };
}

describe('statusHandshake against a driver that takes only one direction for no-data requests', () => {
  it("'auto' (the default) answers no-data requests when the driver takes only HANDSHAKE_OUT, and logs which direction worked", async () => {
    await using w = await world('in', undefined);
    await w.agent.resetState(); // RESET_STATE: a class request without a data stage
    await w.agent.classNoData(TEST_REQUEST.SET_ZLP_POLICY, { value: 0 });
    // RESET_STATE zeroed the counters; SET_ZLP_POLICY and GET_COUNTERS itself counted since: both no-data requests reached the function.
    expect((await w.agent.getCounters()).controlRequests).toBe(2);
    expect(w.service.driverSettings.statusHandshake).toBe('auto');
    expect(w.service.log.ofKind('noDataHandshake').map((e) => e.detail)).toEqual([
      { direction: 'out', setting: 'auto', fallbackFrom: 'in', refusedWith: 'ERROR_INVALID_PARAMETER' },
    ]);
    expect(w.port.refusals).toHaveLength(1); // the second request went OUT straight away
    expect(w.service.log.ofKind('setupFailed')).toEqual([]);
  });

  it("'out' answers with HANDSHAKE_OUT only; 'in' fails the request, which the host sees time out", async () => {
    {
      await using w = await world('in', 'out');
      await w.agent.resetState();
      expect(w.port.refusals).toHaveLength(0);
      expect(w.service.log.ofKind('noDataHandshake').map((e) => e.detail)).toEqual([{ direction: 'out', setting: 'out' }]);
    }
    {
      await using w = await world('in', 'in');
      const err = await w.agent.resetState().catch((e: unknown) => e);
      expect(isTimeout(err)).toBe(true);
      expect(w.service.log.ofKind('setupFailed')[0]?.error).toMatchObject({ code: 'WIN32', data: { win32Name: 'ERROR_INVALID_PARAMETER', ioctl: 'IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN' } });
    }
  });

  it("'auto' keeps HANDSHAKE_IN when the driver takes only that direction", async () => {
    await using w = await world('out', 'auto');
    await w.agent.resetState();
    expect(w.port.refusals).toHaveLength(0);
    expect(w.service.log.ofKind('noDataHandshake').map((e) => e.detail)).toEqual([{ direction: 'in', setting: 'auto' }]);
  });
});
