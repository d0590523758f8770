import { describe, expect, it } from 'vitest';
import { assumption, AssumptionFailedError } from './assumption.js';

describe('assumption', () => {
  it('passes through a check that holds', async () => {
    const completed = ['TRANSFER_OUT'];
    await expect(assumption('§6.2', 'holds', () => expect(completed).toContain('TRANSFER_OUT'))).resolves.toBeUndefined();
  });

  it('files a failed check under the ASSUMPTION category with a serializable cause', async () => {
    const err = await assumption('§6.2', 'pending transfers end with 995', () => expect(22).toBe(995)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AssumptionFailedError);
    const e = err as AssumptionFailedError;
    expect(e.message).toMatch(/^\[ASSUMPTION reference §6\.2\] pending transfers end with 995: expected 22 to be 995/);
    expect(JSON.parse(JSON.stringify(e.toJSON()))).toMatchObject({ code: 'ASSUMPTION', cause: { name: 'AssertionError' } });
    expect(Object.keys(e.cause as object)).not.toContain('actual');
  });
});
