import { describe, expect, it } from 'vitest';
import { declareCmNotifyCallback, loadKoffi } from './bindings.js';

// koffi's native part for this host (Linux x64 in CI) declares prototypes like on Windows.
const koffi = await loadKoffi();

describe('the PCM_NOTIFY_CALLBACK declaration', () => {
  it('can be declared again, as a retried loadWin32Bindings does (koffi type names are global; the prototype is anonymous)', () => {
    const first = declareCmNotifyCallback(koffi);
    const second = declareCmNotifyCallback(koffi);
    expect(koffi.sizeof(first)).toBe(koffi.sizeof('void *'));
    expect(koffi.sizeof(second)).toBe(koffi.sizeof('void *'));
  });

  it('a named prototype could not be declared twice (what the anonymous one avoids)', () => {
    const name = `USBFN_HIL_PROTO_${process.pid}_${Date.now()}`;
    koffi.proto('__stdcall', name, 'uint32', ['void *']);
    expect(() => koffi.proto('__stdcall', name, 'uint32', ['void *'])).toThrow();
  });
});
