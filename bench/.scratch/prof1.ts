import { openBenchWorld } from '../sim-world.js';
const MiB = 1 << 20;
const w = await openBenchWorld();
const N = 200;
const t0 = performance.now();
for (let i = 0; i < N; i++) { const x = await w.agent.loopback(MiB); if (!x.ok) throw new Error('bad'); }
console.log('loopback serial MB/s', (N * MiB / (performance.now() - t0) / 1000).toFixed(0));
await w.close();
