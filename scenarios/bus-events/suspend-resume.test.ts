/**
 * Suspend and resume: when the host stops the bus the device sees Suspend after 3 ms of idle, then
 * Resume; the configuration survives and traffic works afterwards.
 * @see USB 2.0 §7.1.7.6 (suspend), §7.1.7.7 (resume), §9.1.1.6; docs/architecture.md#service-lifecycle step 5
 */
import { delay, expect, phase, test } from '../../harness/index.js';

test('sees suspend then resume and keeps its configuration', { tags: ['sim-only'] }, async ({ agent, clock, device, sim }) => {
  expect((await agent.loopback(512)).ok).toBe(true);
  await phase('suspend the bus', async () => {
    sim.suspend();
    await delay(clock, 5);
  });
  expect((await device.status()).bus).toBe('suspended');
  await phase('resume the bus', async () => {
    sim.resume();
    await delay(clock, 1);
  });
  const bus = (await device.eventLog()).filter((e) => e.kind === 'busEvent').map((e) => e.detail?.['type']);
  expect(bus.slice(-2)).toEqual(['suspend', 'resume']);
  expect((await device.status()).bus).toBe('configured');
  expect((await phase('loop back', () => agent.loopback(2048, { seed: 23 }))).ok).toBe(true);
});

test('holds a transfer while the bus is suspended and completes it after resume', { tags: ['sim-only'] }, async ({ agent, clock, sim }) => {
  sim.suspend();
  await delay(clock, 5);
  let done = false;
  const loop = agent.loopback(1000, { seed: 24 }).finally(() => {
    done = true;
  });
  loop.catch(() => undefined); // awaited below
  await delay(clock, 50);
  expect(done).toBe(false);
  sim.resume();
  expect((await loop).ok).toBe(true);
});

test('does not report suspend for an idle bus shorter than 3 ms', { tags: ['sim-only'] }, async ({ agent, clock, device, sim }) => {
  await agent.loopback(64);
  sim.suspend();
  await delay(clock, 2);
  sim.resume();
  await delay(clock, 5);
  const bus = (await device.eventLog()).filter((e) => e.kind === 'busEvent').map((e) => e.detail?.['type']);
  expect(bus).not.toContain('suspend');
  expect(bus).not.toContain('resume');
});
