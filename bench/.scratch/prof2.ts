import { openBenchWorld } from '../sim-world.js';
const MiB = 1 << 20;
const w = await openBenchWorld();
for (let r = 0; r < 4; r++) {
  const N = 256;
  const t0 = performance.now();
  const x = await w.agent.loopbackPipelined(MiB, N, 4);
  if (!x.ok) throw new Error('bad ' + JSON.stringify(x));
  const dt = performance.now() - t0;
  console.log('pipelined MB/s', (N * MiB / dt / 1000).toFixed(0), 'virtual MB/s', (2 * N * MiB / x.elapsedMs / 1000).toFixed(3));
}
const t0 = performance.now();
for (let i = 0; i < 64; i++) { const x = await w.agent.loopback(MiB); if (!x.ok) throw new Error('bad'); }
console.log('serial MB/s', (64 * MiB / (performance.now() - t0) / 1000).toFixed(0));
await w.close();
