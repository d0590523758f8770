import { describe, expect, it } from 'vitest';
import { createLoopbackFunction } from './loopback-function.js';

describe('createLoopbackFunction query-remove verdict', () => {
  it('allows a query-remove by default', () => {
    expect(createLoopbackFunction().onQueryRemove?.()).toBe('allow');
  });

  it('vetoes when created with vetoQueryRemove', () => {
    expect(createLoopbackFunction({ vetoQueryRemove: true }).onQueryRemove?.()).toBe('veto');
  });

  it('follows state.vetoQueryRemove at the time of the query, and RESET_STATE keeps it', () => {
    const fn = createLoopbackFunction();
    fn.state.vetoQueryRemove = true;
    fn.state.reset();
    expect(fn.onQueryRemove?.()).toBe('veto');
    fn.state.vetoQueryRemove = false;
    expect(fn.onQueryRemove?.()).toBe('allow');
  });
});
