import { measureSoak } from '../soak.js';
const r = await measureSoak({ runs: 1, transfers: Number(process.argv[2] ?? 100000) });
console.log(r);
