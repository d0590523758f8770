import { describe, expect, it } from 'vitest';
import { ConfigRetError, SimulatorError } from '../../core/index.js';
import {
  CM_NOTIFY_ACTION,
  cmNotifyActionName,
  decodeCmNotifyEventData,
  decodeMultiSz,
  WIN32_ERROR,
  type CmNotifyListener,
} from '../../device-side/index.js';
import { VirtualClock, SeededRandom } from '../clock/index.js';
import { ConfigManagerModel } from './config-manager-model.js';
import type { CmDeliveryLogEntry } from './cm-log.js';

const GUID = '{5e9adaef-f879-473f-b807-4e5ea77d1b1c}';
const OTHER_GUID = '{0f2b3c4d-0000-4000-8000-00000000abcd}';
const EVENT_GUID = '{a1b2c3d4-e5f6-4789-8abc-def012345678}';
const DEV = 'USBFN\\LOOPBACK\\5&1a2b3c&0&0';
const DEV2 = 'USBFN\\SOURCESINK\\5&1a2b3c&0&1';
const LINK = '\\\\?\\USBFN#LOOPBACK#5&1a2b3c&0&0#{5e9adaef-f879-473f-b807-4e5ea77d1b1c}';

const {
  CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL: ARRIVAL,
  CM_NOTIFY_ACTION_DEVICEINTERFACEREMOVAL: IFREMOVAL,
  CM_NOTIFY_ACTION_DEVICEQUERYREMOVE: QUERYREMOVE,
} = CM_NOTIFY_ACTION;
const { ERROR_SUCCESS, ERROR_CANCELLED } = WIN32_ERROR;

function setup(opts: { seed?: number; latency?: { min: number; max: number }; deliverDuringUnregister?: number } = {}): {
  clock: VirtualClock;
  cm: ConfigManagerModel;
} {
  const clock = new VirtualClock();
  const cm = new ConfigManagerModel({
    clock,
    random: new SeededRandom(opts.seed ?? 3),
    notificationLatencyMs: opts.latency,
    deliverDuringUnregister: opts.deliverDuringUnregister ?? 0,
  });
  return { clock, cm };
}

/** A listener that records action names and answers with `answer(action)` (default ERROR_SUCCESS). */
function recorder(answer: (action: number) => number = () => ERROR_SUCCESS): {
  seen: string[];
  data: Uint8Array[];
  listener: CmNotifyListener;
} {
  const seen: string[] = [];
  const data: Uint8Array[] = [];
  return {
    seen,
    data,
    listener: (action, eventData) => {
      seen.push(short(action));
      data.push(eventData);
      return answer(action);
    },
  };
}

function short(action: number): string {
  return cmNotifyActionName(action).replace('CM_NOTIFY_ACTION_DEVICE', '');
}

function listLinks(cm: ConfigManagerModel, q: Parameters<ConfigManagerModel['getInterfaceList']>[0]): string[] {
  const size = cm.getInterfaceListSize(q);
  return decodeMultiSz(cm.getInterfaceList(q, size));
}

describe('ConfigManagerModel: topology', () => {
  it('adds a device with Windows-shaped symbolic links, looked up case-insensitively', () => {
    const { cm } = setup();
    const links = cm.addDevice(DEV, [{ classGuid: GUID.toUpperCase() }, { classGuid: OTHER_GUID, referenceString: 'ctl' }]);
    expect(links).toEqual([LINK, `\\\\?\\USBFN#LOOPBACK#5&1a2b3c&0&0#${OTHER_GUID}\\ctl`]);
    expect(cm.hasInterface(LINK.toLowerCase())).toBe(true);
    expect(cm.deviceOf(LINK.toUpperCase())).toBe(DEV);
    expect(cm.hasInterface(LINK.replace('LOOPBACK', 'OTHER'))).toBe(false);
    expect(cm.isPresent(DEV.toLowerCase())).toBe(true);
  });

  it('rejects a second addDevice of a present instance and bad arguments with SimulatorErrors', () => {
    const { cm } = setup();
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    expect(() => cm.addDevice(DEV, [{ classGuid: GUID }])).toThrow(expect.objectContaining({ code: 'SIM_DEVICE_EXISTS' }));
    expect(() => cm.addDevice('USBFN\\X', [])).toThrow(expect.objectContaining({ code: 'SIM_BAD_INSTANCE_ID' }));
    expect(() => cm.addDevice(DEV2, [{ classGuid: 'nope' }])).toThrow(expect.objectContaining({ code: 'SIM_BAD_GUID' }));
    expect(() => cm.addDevice(DEV2, [{ classGuid: GUID }, { classGuid: GUID }])).toThrow(
      expect.objectContaining({ code: 'SIM_DUPLICATE_INTERFACE' }),
    );
  });

  it('rejects PnP operations on a device that is not present', async () => {
    const { cm } = setup();
    await expect(cm.queryAndRemove(DEV)).rejects.toMatchObject({ code: 'SIM_NO_SUCH_DEVICE' });
    await expect(cm.surpriseRemove(DEV)).rejects.toMatchObject({ code: 'SIM_NO_SUCH_DEVICE' });
    await expect(cm.failQueryRemove(DEV)).rejects.toMatchObject({ code: 'SIM_NO_SUCH_DEVICE' });
    await expect(cm.sendCustomEvent(DEV, EVENT_GUID, new Uint8Array(1))).rejects.toMatchObject({
      code: 'SIM_NO_SUCH_DEVICE',
    });
  });
});

describe('ConfigManagerModel: delivery rules', () => {
  it('delivers asynchronously, never inside the call that caused the event', async () => {
    const { clock, cm } = setup();
    const r = recorder();
    cm.register({ type: 'deviceInterface', classGuid: GUID }, r.listener);
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    expect(r.seen).toEqual([]);
    await clock.idle();
    expect(r.seen).toEqual(['INTERFACEARRIVAL']);
    expect(decodeCmNotifyEventData(r.data[0]!)).toMatchObject({
      filterType: 'deviceInterface',
      symbolicLink: LINK,
    });
  });

  it('notifies DEVICEINSTANCE registrations ENUMERATED then STARTED, with interface arrival in between', async () => {
    const { clock, cm } = setup();
    const order: string[] = [];
    const tag = (who: string): CmNotifyListener => (action) => {
      order.push(`${who}:${short(action)}`);
      return ERROR_SUCCESS;
    };
    cm.register({ type: 'deviceInstance', instanceId: DEV }, tag('inst'));
    cm.register({ type: 'deviceInstance', allDeviceInstances: true }, tag('all'));
    cm.register({ type: 'deviceInterface', allInterfaceClasses: true }, tag('if'));
    cm.register({ type: 'deviceInstance', instanceId: DEV2 }, tag('other'));
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    await clock.idle();
    expect(order).toEqual([
      'inst:INSTANCEENUMERATED',
      'all:INSTANCEENUMERATED',
      'if:INTERFACEARRIVAL',
      'inst:INSTANCESTARTED',
      'all:INSTANCESTARTED',
    ]);
  });

  it('has no history: a registration sees only events after it was made', async () => {
    const { clock, cm } = setup();
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    await clock.idle();
    const r = recorder();
    cm.register({ type: 'deviceInterface', classGuid: GUID }, r.listener);
    await clock.idle();
    expect(r.seen).toEqual([]);
    cm.addDevice(DEV2, [{ classGuid: GUID }]);
    await clock.idle();
    expect(r.seen).toEqual(['INTERFACEARRIVAL']);
  });

  it('reports an interface arriving between registration and listing both ways (docs/reference/configuration-manager.md#register-then-list)', async () => {
    const { clock, cm } = setup();
    const r = recorder();
    cm.register({ type: 'deviceInterface', classGuid: GUID }, r.listener); // 1. register
    cm.addDevice(DEV, [{ classGuid: GUID }]); // the interface arrives in between
    const listed = listLinks(cm, { interfaceClassGuid: GUID }); // 2. list
    await clock.idle();
    expect(listed).toEqual([LINK]);
    expect(r.seen).toEqual(['INTERFACEARRIVAL']);
    expect(decodeCmNotifyEventData(r.data[0]!)).toMatchObject({ symbolicLink: LINK });
  });

  it('serializes deliveries per registration and never re-enters a callback', async () => {
    const { clock, cm } = setup();
    let depth = 0;
    let maxDepth = 0;
    const order: string[] = [];
    cm.register({ type: 'deviceInterface', classGuid: GUID }, (action, data) => {
      depth++;
      maxDepth = Math.max(maxDepth, depth);
      const link = (decodeCmNotifyEventData(data) as { symbolicLink: string }).symbolicLink;
      order.push(`start ${link.includes('LOOPBACK') ? 1 : 2}`);
      // An event caused from inside the callback is queued, not delivered re-entrantly.
      if (link.includes('LOOPBACK')) cm.addDevice(DEV2, [{ classGuid: GUID }]);
      void Promise.resolve().then(() => order.push('microtask of 1'));
      order.push(`end ${link.includes('LOOPBACK') ? 1 : 2}`);
      depth--;
      return ERROR_SUCCESS;
    });
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    await clock.idle();
    expect(maxDepth).toBe(1);
    expect(order.slice(0, 4)).toEqual(['start 1', 'end 1', 'microtask of 1', 'start 2']);
  });

  it('records SIM_BAD_CALLBACK_RESULT for a return value other than ERROR_SUCCESS/ERROR_CANCELLED and acts as success', async () => {
    const { clock, cm } = setup();
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    const h = cm.openHandle(LINK)!;
    cm.register({ type: 'deviceHandle', handle: h }, (action) => {
      if (action === QUERYREMOVE) h.close();
      return 5; // ERROR_ACCESS_DENIED: not allowed
    });
    await expect(cm.queryAndRemove(DEV)).resolves.toBe('removed');
    await clock.idle();
    const qr = cm.deliveries().find((e) => e.action === QUERYREMOVE)!;
    expect(qr).toMatchObject({ outcome: 'delivered', result: 5, effectiveResult: ERROR_SUCCESS });
    expect(qr.error).toMatchObject({ code: 'SIM_BAD_CALLBACK_RESULT' });
    expect(cm.callbackErrors().length).toBe(cm.deliveries().length);
  });

  it('records SIM_BAD_CALLBACK_RESULT when ERROR_CANCELLED answers anything but DEVICEQUERYREMOVE', async () => {
    const { clock, cm } = setup();
    cm.register({ type: 'deviceInterface', classGuid: GUID }, () => ERROR_CANCELLED);
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    await clock.idle();
    const [entry] = cm.deliveries();
    expect(entry).toMatchObject({ result: ERROR_CANCELLED, effectiveResult: ERROR_SUCCESS });
    expect(entry!.error?.message).toMatch(/only meaningful for CM_NOTIFY_ACTION_DEVICEQUERYREMOVE/);
  });

  it('treats a throwing callback as ERROR_SUCCESS and records SIM_CALLBACK_THREW with the cause', async () => {
    const { clock, cm } = setup();
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    const h = cm.openHandle(LINK)!;
    const reg = cm.register({ type: 'deviceHandle', handle: h }, () => {
      h.close();
      throw new Error('boom');
    });
    // A throw counted as anything but ERROR_SUCCESS would veto.
    await expect(cm.queryAndRemove(DEV)).resolves.toBe('removed');
    await clock.idle();
    const [entry] = cm.deliveries(reg.id);
    expect(entry!.error).toMatchObject({ code: 'SIM_CALLBACK_THREW' });
    expect((entry!.error!.cause as Error).message).toBe('boom');
  });
});

describe('ConfigManagerModel: unregistering', () => {
  it('rejects unregister from inside the registration\'s own callback with SIM_UNREGISTER_IN_CALLBACK', async () => {
    const { clock, cm } = setup();
    let inside: Promise<void> | undefined;
    const r = recorder();
    const reg = cm.register({ type: 'deviceInterface', classGuid: GUID }, (action, data) => {
      inside = reg.unregister();
      inside.catch(() => undefined);
      return r.listener(action, data);
    });
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    await clock.idle();
    const err: unknown = await inside!.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SimulatorError);
    expect(err).toMatchObject({ code: 'SIM_UNREGISTER_IN_CALLBACK' });
    expect((err as Error).message).toMatch(/deadlock/);
    expect((err as Error).message).toMatch(/Defer it/);
    expect(cm.deliveries(reg.id)[0]!.error).toMatchObject({ code: 'SIM_UNREGISTER_IN_CALLBACK' });
    // Still registered (the real call would never have returned).
    cm.addDevice(DEV2, [{ classGuid: GUID }]);
    await clock.idle();
    expect(r.seen).toEqual(['INTERFACEARRIVAL', 'INTERFACEARRIVAL']);
  });

  it('accepts an unregister deferred out of the callback; nothing is delivered after it resolves', async () => {
    const { clock, cm } = setup({ deliverDuringUnregister: 0 });
    const r = recorder();
    let done: Promise<void> | undefined;
    const reg = cm.register({ type: 'deviceInterface', classGuid: GUID }, (action, data) => {
      queueMicrotask(() => {
        done = reg.unregister();
      });
      return r.listener(action, data);
    });
    cm.addDevice(DEV, [{ classGuid: GUID }, { classGuid: GUID, referenceString: 'b' }]);
    await clock.idle();
    await expect(done).resolves.toBeUndefined();
    cm.addDevice(DEV2, [{ classGuid: GUID }]);
    await clock.idle();
    expect(r.seen).toEqual(['INTERFACEARRIVAL']);
    // The second arrival was queued when the unregister came: discarded, not delivered.
    expect(cm.deliveries(reg.id).map((e) => e.outcome)).toEqual(['delivered', 'discarded']);
  });

  it('ASSUMPTION(cm-unregister-late-delivery): an unregister may deliver one notification already queued before it returns', async () => {
    const { clock, cm } = setup({ deliverDuringUnregister: 1 });
    const r = recorder();
    let done: Promise<void> | undefined;
    let resolvedAfter: string[] | undefined;
    const reg = cm.register({ type: 'deviceInterface', classGuid: GUID }, (action, data) => {
      if (done === undefined) {
        queueMicrotask(() => {
          done = reg.unregister().then(() => void (resolvedAfter = [...r.seen]));
        });
      }
      return r.listener(action, data);
    });
    cm.addDevice(DEV, [{ classGuid: GUID }, { classGuid: GUID, referenceString: 'b' }, { classGuid: GUID, referenceString: 'c' }]);
    await clock.idle();
    await done;
    // The second arrival was queued when the unregister came: it still arrived before the unregister returned.
    expect(resolvedAfter).toEqual(['INTERFACEARRIVAL', 'INTERFACEARRIVAL']);
    // The third was discarded at the unregister call, before the late delivery of the second.
    expect(cm.deliveries(reg.id).map((e) => [e.outcome, e.duringUnregister ?? false])).toEqual([
      ['delivered', false],
      ['discarded', false],
      ['delivered', true],
    ]);
    cm.addDevice(DEV2, [{ classGuid: GUID }]);
    await clock.idle();
    expect(r.seen).toHaveLength(2);
  });

  it('draws the late delivery from the seeded random source (deliverDuringUnregister 0.5): same seed, same choice', async () => {
    const outcomes = async (seed: number): Promise<string[]> => {
      const { clock, cm } = setup({ seed, deliverDuringUnregister: 0.5 });
      const choices: string[] = [];
      for (let i = 0; i < 16; i++) {
        let done: Promise<void> | undefined;
        const reg = cm.register({ type: 'deviceInterface', classGuid: GUID }, () => {
          queueMicrotask(() => (done ??= reg.unregister()));
          return ERROR_SUCCESS;
        });
        const id = `USBFN\\LOOPBACK\\5&1a2b3c&0&${i + 10}`;
        cm.addDevice(id, [{ classGuid: GUID }, { classGuid: GUID, referenceString: 'b' }]);
        await clock.idle();
        await done;
        choices.push(cm.deliveries(reg.id)[1]!.outcome);
      }
      return choices;
    };
    const a = await outcomes(7);
    expect(await outcomes(7)).toEqual(a);
    expect(new Set(a)).toEqual(new Set(['delivered', 'discarded']));
  });

  it('fails a second unregister with CR_INVALID_POINTER (ASSUMPTION(cm-second-unregister))', async () => {
    const { cm } = setup();
    const reg = cm.register({ type: 'deviceInterface', classGuid: GUID }, () => ERROR_SUCCESS);
    await reg.unregister();
    const err: unknown = await reg.unregister().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigRetError);
    expect(err).toMatchObject({ api: 'CM_Unregister_Notification', crName: 'CR_INVALID_POINTER' });
  });
});

describe('ConfigManagerModel: registration errors', () => {
  it('fails CM_Register_Notification with CR_INVALID_DATA for a malformed GUID or instance ID', () => {
    const { cm } = setup();
    expect(() => cm.register({ type: 'deviceInterface', classGuid: 'not-a-guid' }, () => 0)).toThrow(
      expect.objectContaining({ api: 'CM_Register_Notification', crName: 'CR_INVALID_DATA' }),
    );
    expect(() => cm.register({ type: 'deviceInstance', instanceId: 'nope' }, () => 0)).toThrow(
      expect.objectContaining({ crName: 'CR_INVALID_DATA' }),
    );
  });

  it('fails a DEVICEHANDLE registration on a closed handle with CR_INVALID_DATA (ASSUMPTION(cm-register-failures))', () => {
    const { cm } = setup();
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    const h = cm.openHandle(LINK)!;
    h.close();
    expect(h.isOpen).toBe(false);
    expect(() => cm.register({ type: 'deviceHandle', handle: h }, () => 0)).toThrow(
      expect.objectContaining({ code: 'CONFIGRET', crName: 'CR_INVALID_DATA' }),
    );
  });

  it('refuses a handle it did not make', () => {
    const { cm } = setup();
    const fake = { id: 1, symbolicLink: LINK, instanceId: DEV, isOpen: true, deviceRemoved: false, close: () => undefined };
    expect(() => cm.register({ type: 'deviceHandle', handle: fake }, () => 0)).toThrow(
      expect.objectContaining({ code: 'SIM_FOREIGN_HANDLE' }),
    );
  });
});

describe('ConfigManagerModel: query-remove', () => {
  it('removes a device whose service closes its handle in DEVICEQUERYREMOVE, in the documented order', async () => {
    const { clock, cm } = setup();
    const order: string[] = [];
    const tag = (who: string, onQuery?: () => void): CmNotifyListener => (action) => {
      order.push(`${who}:${short(action)}`);
      if (action === QUERYREMOVE) onQuery?.();
      return ERROR_SUCCESS;
    };
    cm.register({ type: 'deviceInterface', classGuid: GUID }, tag('if'));
    cm.register({ type: 'deviceInstance', instanceId: DEV }, tag('inst'));
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    await clock.idle();
    order.length = 0;
    const h = cm.openHandle(LINK)!;
    const removed: string[] = [];
    cm.onRemoved(DEV, (how) => removed.push(how));
    cm.register({ type: 'deviceHandle', handle: h }, tag('handle', () => h.close()));
    await expect(cm.queryAndRemove(DEV)).resolves.toBe('removed');
    // The handle registration keeps receiving the device's notifications after its handle was closed.
    expect(order).toEqual([
      'handle:QUERYREMOVE',
      'handle:REMOVEPENDING',
      'if:INTERFACEREMOVAL',
      'handle:REMOVECOMPLETE',
      'inst:INSTANCEREMOVED',
    ]);
    expect(removed).toEqual(['removed']);
    expect(cm.hasInterface(LINK)).toBe(false);
    expect(cm.openHandle(LINK)).toBeUndefined();
    expect(cm.log.at(-1)).toMatchObject({ kind: 'pnp', op: 'queryRemove', outcome: 'removed' });
  });

  it('is vetoed by a callback returning ERROR_CANCELLED: QUERYREMOVEFAILED to every handle registration', async () => {
    const { cm } = setup();
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    const h1 = cm.openHandle(LINK)!;
    const h2 = cm.openHandle(LINK)!;
    const vetoer = recorder((a) => (a === QUERYREMOVE ? ERROR_CANCELLED : ERROR_SUCCESS));
    const polite = recorder();
    const reg1 = cm.register({ type: 'deviceHandle', handle: h1 }, vetoer.listener);
    cm.register({ type: 'deviceHandle', handle: h2 }, (a, d) => {
      if (a === QUERYREMOVE) h2.close();
      return polite.listener(a, d);
    });
    h1.close(); // closed, but its callback vetoes anyway
    await expect(cm.queryAndRemove(DEV)).resolves.toBe('vetoed');
    expect(vetoer.seen).toEqual(['QUERYREMOVE', 'QUERYREMOVEFAILED']);
    expect(polite.seen).toEqual(['QUERYREMOVE', 'QUERYREMOVEFAILED']);
    expect(cm.isPresent(DEV)).toBe(true);
    expect(cm.log.at(-1)).toMatchObject({ outcome: 'vetoed', detail: `${reg1.id} returned ERROR_CANCELLED` });
  });

  it('is vetoed by a handle still open after the callbacks', async () => {
    const { cm } = setup();
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    const h = cm.openHandle(LINK)!;
    const r = recorder(); // allows, but never closes its handle
    cm.register({ type: 'deviceHandle', handle: h }, r.listener);
    await expect(cm.queryAndRemove(DEV)).resolves.toBe('vetoed');
    expect(r.seen).toEqual(['QUERYREMOVE', 'QUERYREMOVEFAILED']);
    expect(cm.log.at(-1)).toMatchObject({ outcome: 'vetoed', detail: expect.stringMatching(/#1 .* still open/) });
    // No handle registration at all, handle open: vetoed too.
    const { cm: cm2 } = setup();
    cm2.addDevice(DEV, [{ classGuid: GUID }]);
    cm2.openHandle(LINK);
    await expect(cm2.queryAndRemove(DEV)).resolves.toBe('vetoed');
  });

  it('ASSUMPTION(cm-open-handle-veto): counts only handles closed before the QUERYREMOVE callback returned; a close after an await vetoes', async () => {
    const { cm } = setup();
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    const h = cm.openHandle(LINK)!;
    const asyncClose = async (): Promise<void> => {
      await Promise.resolve();
      await Promise.resolve();
      h.close();
    };
    cm.register({ type: 'deviceHandle', handle: h }, (a) => {
      if (a === QUERYREMOVE) void asyncClose();
      return ERROR_SUCCESS;
    });
    await expect(cm.queryAndRemove(DEV)).resolves.toBe('vetoed');
    expect(h.isOpen).toBe(false); // it did close, but too late
    expect(cm.log.at(-1)).toMatchObject({ kind: 'pnp', outcome: 'vetoed', detail: expect.stringMatching(/still open after DEVICEQUERYREMOVE/) });
    // Closed inside the callback, before it returns: the removal goes ahead.
    const h2 = cm.openHandle(LINK)!;
    cm.register({ type: 'deviceHandle', handle: h2 }, (a) => {
      if (a === QUERYREMOVE) h2.close();
      return ERROR_SUCCESS;
    });
    await expect(cm.queryAndRemove(DEV)).resolves.toBe('removed');
  });

  it('sends QUERYREMOVEFAILED without a prior QUERYREMOVE (failQueryRemove)', async () => {
    const { cm } = setup();
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    const h = cm.openHandle(LINK)!;
    const r = recorder();
    cm.register({ type: 'deviceHandle', handle: h }, r.listener);
    await cm.failQueryRemove(DEV);
    expect(r.seen).toEqual(['QUERYREMOVEFAILED']);
    expect(cm.isPresent(DEV)).toBe(true);
  });
});

describe('ConfigManagerModel: surprise removal', () => {
  it('sends REMOVECOMPLETE without QUERYREMOVE/REMOVEPENDING and leaves open handles stale', async () => {
    const { clock, cm } = setup();
    const iface = recorder();
    const inst = recorder();
    cm.register({ type: 'deviceInterface', classGuid: GUID }, iface.listener);
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    const h = cm.openHandle(LINK)!;
    const handle = recorder();
    cm.register({ type: 'deviceHandle', handle: h }, handle.listener);
    cm.register({ type: 'deviceInstance', instanceId: DEV }, inst.listener);
    const removed: string[] = [];
    const stop = cm.onRemoved(DEV, (how) => removed.push(how));
    await clock.idle();
    await cm.surpriseRemove(DEV);
    expect(handle.seen).toEqual(['REMOVECOMPLETE']);
    expect(iface.seen).toEqual(['INTERFACEARRIVAL', 'INTERFACEREMOVAL']);
    expect(inst.seen).toEqual(['INSTANCEREMOVED']);
    expect(removed).toEqual(['surprise']);
    expect(h.isOpen).toBe(true);
    expect(h.deviceRemoved).toBe(true);
    expect(() => cm.register({ type: 'deviceHandle', handle: h }, () => 0)).toThrow(
      expect.objectContaining({ crName: 'CR_NO_SUCH_DEVINST' }),
    );
    stop();
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    await cm.surpriseRemove(DEV);
    expect(removed).toEqual(['surprise']);
  });

  it('does not tell an old handle registration about the next incarnation after a replug', async () => {
    const { clock, cm } = setup();
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    const h = cm.openHandle(LINK)!;
    const old = recorder();
    cm.register({ type: 'deviceHandle', handle: h }, old.listener);
    await cm.surpriseRemove(DEV);
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    await cm.sendCustomEvent(DEV, EVENT_GUID, new Uint8Array([1]));
    await clock.idle();
    expect(old.seen).toEqual(['REMOVECOMPLETE']);
    expect(cm.openHandle(LINK)).toBeDefined();
  });
});

describe('ConfigManagerModel: custom events', () => {
  it('delivers DEVICECUSTOMEVENT with the event GUID, name offset and a copy of the data', async () => {
    const { cm } = setup();
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    const h = cm.openHandle(LINK)!;
    const r = recorder();
    cm.register({ type: 'deviceHandle', handle: h }, r.listener);
    const payload = new Uint8Array([0x03, 0x00, 0x00, 0x00, 0xaa]);
    const sent = cm.sendCustomEvent(DEV, EVENT_GUID, payload, 4);
    payload[0] = 0xff; // the model copied it at the call
    await sent;
    expect(r.seen).toEqual(['CUSTOMEVENT']);
    const ev = decodeCmNotifyEventData(r.data[0]!);
    expect(ev).toMatchObject({ filterType: 'deviceHandle', nameOffset: 4 });
    expect((ev as { eventGuid: string }).eventGuid.toLowerCase()).toBe(EVENT_GUID);
    expect([...(ev as { data: Uint8Array }).data]).toEqual([0x03, 0x00, 0x00, 0x00, 0xaa]);
  });

  it('rejects a malformed event GUID or name offset', async () => {
    const { cm } = setup();
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    await expect(cm.sendCustomEvent(DEV, 'x', new Uint8Array(1))).rejects.toMatchObject({ code: 'SIM_BAD_GUID' });
    await expect(cm.sendCustomEvent(DEV, EVENT_GUID, new Uint8Array(2), 2)).rejects.toMatchObject({
      code: 'SIM_BAD_ARGUMENT',
    });
  });

  it('runs PnP operations one at a time, in call order', async () => {
    const { cm } = setup();
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    const h = cm.openHandle(LINK)!;
    const r = recorder();
    cm.register({ type: 'deviceHandle', handle: h }, r.listener);
    const a = cm.sendCustomEvent(DEV, EVENT_GUID, new Uint8Array(1));
    const b = cm.failQueryRemove(DEV);
    const c = cm.sendCustomEvent(DEV, EVENT_GUID, new Uint8Array(1));
    await Promise.all([a, b, c]);
    expect(r.seen).toEqual(['CUSTOMEVENT', 'QUERYREMOVEFAILED', 'CUSTOMEVENT']);
  });
});

describe('ConfigManagerModel: interface lists', () => {
  it('fails with CR_BUFFER_SMALL when the list grew after the size query; the size→list loop then succeeds', () => {
    const { cm } = setup();
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    const q = { interfaceClassGuid: GUID };
    const size = cm.getInterfaceListSize(q);
    expect(size).toBe(LINK.length + 2);
    cm.addDevice(DEV2, [{ classGuid: GUID }]); // grows between the two calls
    let err: unknown;
    try {
      cm.getInterfaceList(q, size);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigRetError);
    expect(err).toMatchObject({ api: 'CM_Get_Device_Interface_ListW', crName: 'CR_BUFFER_SMALL' });
    const again = cm.getInterfaceListSize(q);
    const list = cm.getInterfaceList(q, again);
    expect(list.length).toBe(again * 2);
    expect(decodeMultiSz(list)).toEqual([LINK, '\\\\?\\USBFN#SOURCESINK#5&1a2b3c&0&1#' + GUID]);
  });

  it('returns size 1 and a single NUL for an empty list (ASSUMPTION(cm-empty-list))', () => {
    const { cm } = setup();
    const q = { interfaceClassGuid: GUID };
    expect(cm.getInterfaceListSize(q)).toBe(1);
    expect([...cm.getInterfaceList(q, 1)]).toEqual([0, 0]);
    expect(() => cm.getInterfaceList(q, 0)).toThrow(expect.objectContaining({ crName: 'CR_BUFFER_SMALL' }));
  });

  it('filters by class GUID and device instance, and lists removed devices only with ALL_DEVICES', async () => {
    const { cm } = setup();
    cm.addDevice(DEV, [{ classGuid: GUID }, { classGuid: OTHER_GUID }]);
    const [link2] = cm.addDevice(DEV2, [{ classGuid: GUID }]);
    expect(listLinks(cm, { interfaceClassGuid: GUID })).toEqual([LINK, link2]);
    expect(listLinks(cm, { interfaceClassGuid: GUID, deviceInstanceId: DEV2.toLowerCase() })).toEqual([link2]);
    expect(listLinks(cm, { interfaceClassGuid: OTHER_GUID }).length).toBe(1);
    await cm.surpriseRemove(DEV);
    expect(listLinks(cm, { interfaceClassGuid: GUID })).toEqual([link2]);
    expect(listLinks(cm, { interfaceClassGuid: GUID, flags: 1 })).toEqual([LINK, link2]);
    expect(listLinks(cm, { interfaceClassGuid: GUID, deviceInstanceId: DEV })).toEqual([]);
  });

  it('maps bad queries to CONFIGRET codes (ASSUMPTION(cm-list-argument-errors), ReactOS)', () => {
    const { cm } = setup();
    const api = 'CM_Get_Device_Interface_List_SizeW';
    expect(() => cm.getInterfaceListSize({ interfaceClassGuid: GUID, flags: 2 })).toThrow(
      expect.objectContaining({ api, crName: 'CR_INVALID_FLAG' }),
    );
    expect(() => cm.getInterfaceListSize({ interfaceClassGuid: 'bad' })).toThrow(
      expect.objectContaining({ api, crName: 'CR_INVALID_DATA' }),
    );
    expect(() => cm.getInterfaceListSize({ interfaceClassGuid: GUID, deviceInstanceId: 'bad' })).toThrow(
      expect.objectContaining({ crName: 'CR_INVALID_DEVICE_ID' }),
    );
    expect(() => cm.getInterfaceListSize({ interfaceClassGuid: GUID, deviceInstanceId: DEV })).toThrow(
      expect.objectContaining({ crName: 'CR_NO_SUCH_DEVINST' }),
    );
    expect(() => cm.getInterfaceList({ interfaceClassGuid: GUID }, 1.5)).toThrow(
      expect.objectContaining({ code: 'SIM_BAD_ARGUMENT' }),
    );
  });
});

describe('ConfigManagerModel: dropped notifications fault', () => {
  it('loses the next matching deliveries and records them as dropped', async () => {
    const { clock, cm } = setup();
    const r = recorder();
    cm.register({ type: 'deviceInterface', classGuid: GUID }, r.listener);
    cm.dropNotifications({ action: ARRIVAL, count: 1 });
    expect(cm.pendingDrops).toBe(1);
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    cm.addDevice(DEV2, [{ classGuid: GUID }]);
    await clock.idle();
    expect(r.seen).toEqual(['INTERFACEARRIVAL']);
    expect(cm.deliveries().map((e) => e.outcome)).toEqual(['dropped', 'delivered']);
    expect(cm.pendingDrops).toBe(0);
    // The service can still find the interface by listing: the recovery the fault exercises.
    expect(listLinks(cm, { interfaceClassGuid: GUID }).length).toBe(2);
  });

  it('only drops the matching action, and a dropped QUERYREMOVE does not veto', async () => {
    const { cm } = setup();
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    const h = cm.openHandle(LINK)!;
    const r = recorder(() => ERROR_CANCELLED);
    cm.register({ type: 'deviceHandle', handle: h }, (a, d) => (a === QUERYREMOVE ? r.listener(a, d) : ERROR_SUCCESS));
    h.close();
    cm.dropNotifications({ action: QUERYREMOVE });
    cm.dropNotifications({ action: IFREMOVAL, count: 3 });
    await expect(cm.queryAndRemove(DEV)).resolves.toBe('removed');
    expect(r.seen).toEqual([]);
    expect(cm.pendingDrops).toBe(3); // no interface registration: nothing to drop
    cm.clearFaults();
    expect(cm.pendingDrops).toBe(0);
  });
});

describe('ConfigManagerModel: determinism', () => {
  async function script(seed: number): Promise<unknown[]> {
    const { clock, cm } = setup({ seed, latency: { min: 0, max: 5 } });
    cm.register({ type: 'deviceInterface', allInterfaceClasses: true }, () => ERROR_SUCCESS);
    cm.register({ type: 'deviceInstance', allDeviceInstances: true }, () => ERROR_SUCCESS);
    cm.addDevice(DEV, [{ classGuid: GUID }]);
    const h = cm.openHandle(LINK)!;
    cm.register({ type: 'deviceHandle', handle: h }, (a) => {
      if (a === QUERYREMOVE) h.close();
      return ERROR_SUCCESS;
    });
    cm.addDevice(DEV2, [{ classGuid: GUID }]);
    await cm.sendCustomEvent(DEV, EVENT_GUID, new Uint8Array(4));
    await cm.queryAndRemove(DEV);
    await cm.surpriseRemove(DEV2);
    await clock.idle();
    return cm.log.map((e) => ({ ...e, error: undefined }));
  }

  it('produces the same log for the same inputs and seed, with jittered latency on virtual time', async () => {
    const a = await script(7);
    const b = await script(7);
    expect(a).toEqual(b);
    expect(a.length).toBeGreaterThan(10);
    const times = (a as CmDeliveryLogEntry[]).map((e) => e.timeMs);
    expect(times.some((t) => t > 0)).toBe(true);
    expect([...times].sort((x, y) => x - y)).toEqual(times);
    const c = await script(8);
    expect(c).not.toEqual(a);
  });
});
