const MiB = 1 << 20;
const a = new Uint8Array(MiB).fill(1); const b = new Uint8Array(MiB);
for (let r = 0; r < 5; r++) {
  const t0 = performance.now();
  for (let i = 0; i < 2000; i++) b.set(a);
  console.log('copy GB/s', (2000 * MiB / (performance.now() - t0) / 1e6).toFixed(2));
}
const c = Buffer.from(a.buffer), d = Buffer.from(b.buffer);
for (let r = 0; r < 3; r++) {
  const t0 = performance.now();
  for (let i = 0; i < 2000; i++) if (c.compare(d) !== 0) throw 1;
  console.log('compare GB/s', (2000 * MiB / (performance.now() - t0) / 1e6).toFixed(2));
}
for (let r = 0; r < 3; r++) {
  const t0 = performance.now();
  for (let i = 0; i < 2000; i++) if (!c.equals(d)) throw 1;
  console.log('equals GB/s', (2000 * MiB / (performance.now() - t0) / 1e6).toFixed(2));
}
const bufs = Array.from({length: 12}, () => new Uint8Array(MiB));
for (let r = 0; r < 3; r++) {
  const t0 = performance.now();
  for (let i = 0; i < 2000; i++) bufs[i % 12].set(bufs[(i + 5) % 12]);
  console.log('copy 12MiB ws GB/s', (2000 * MiB / (performance.now() - t0) / 1e6).toFixed(2));
}
