/** A {@link PnpRunner} for tests of the agent: records every run, offers chosen verbs, fails on request. */
import type { PnpOutcome, PnpRunner, PnpVerb } from '../faults/index.js';

export class FakePnpRunner implements PnpRunner {
  readonly runs: { verb: PnpVerb; instanceId: string }[] = [];
  readonly #verbs: PnpVerb[];
  /** The next run fails with this error (then it is cleared). */
  failNext: Error | undefined;

  constructor(verbs: PnpVerb[] = ['disable', 'enable', 'restart']) {
    this.#verbs = verbs;
  }

  async verbs(): Promise<PnpVerb[]> {
    return [...this.#verbs];
  }

  async run(verb: PnpVerb, instanceId: string): Promise<PnpOutcome> {
    this.runs.push({ verb, instanceId });
    const err = this.failNext;
    this.failNext = undefined;
    if (err !== undefined) throw err;
    return { verb, instanceId, rebootRequired: false, summary: `Device ${verb}d successfully.` };
  }
}
