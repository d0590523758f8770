/** Simulated time and randomness: the virtual clock every simulated world runs on and its seeded random source. */
export * from './virtual-clock.js';
export * from './seeded-random.js';
