import { describe, expect, it } from 'vitest';
import { loadKoffi } from './bindings.js';
import { expectedLayouts, type PointerSize } from './expected-layouts.js';
import { compareLayouts, declareStructs, fieldLayout, type Win32StructName } from './koffi-structs.js';

// koffi's native part for this host (Linux x64 in CI) is enough: the declarations use explicit-width
// types, so both the x64 and the x86 Windows layouts can be computed here.
const koffi = await loadKoffi();

describe.each([8, 4] as PointerSize[])('koffi struct declarations, pointer size %i', (pointerSize) => {
  const structs = declareStructs(koffi, pointerSize);
  const table = expectedLayouts(pointerSize);

  it.each(table.map((l) => [l.name, l] as const))('%s: sizeof, alignof and every field offset/size equal the reference', (_name, layout) => {
    const type = structs[layout.name as Win32StructName];
    expect(koffi.sizeof(type)).toBe(layout.size);
    expect(koffi.alignof(type)).toBe(layout.align);
    for (const field of layout.fields) {
      expect({ path: field.path, ...fieldLayout(koffi, type, field.path) }).toEqual({
        path: field.path,
        offset: field.offset,
        size: field.size,
      });
    }
  });

  it('compareLayouts reports no difference for the whole table', () => {
    expect(compareLayouts(koffi, structs, table)).toEqual([]);
  });
});

describe('compareLayouts', () => {
  it('names the struct, the field and both numbers when a layout differs', () => {
    const structs = declareStructs(koffi, 8);
    const wrong = expectedLayouts(4); // x86 expectations against x64 declarations
    const diffs = compareLayouts(koffi, structs, wrong);
    expect(diffs).toContainEqual({ struct: 'OVERLAPPED', what: 'sizeof', expected: 20, actual: 32 });
    expect(diffs).toContainEqual({ struct: 'CM_NOTIFY_FILTER', what: 'sizeof(u.DeviceHandle.hTarget)', expected: 4, actual: 8 });
    expect(diffs.every((d) => ['OVERLAPPED', 'OVERLAPPED_ENTRY', 'CM_NOTIFY_FILTER'].includes(d.struct))).toBe(true);
  });

  it('reports a field the declaration lacks instead of throwing', () => {
    const structs = declareStructs(koffi, 8);
    const diffs = compareLayouts(koffi, structs, [{ name: 'GUID', size: 16, align: 4, fields: [{ path: 'Data5', offset: 16, size: 1 }] }]);
    expect(diffs).toEqual([{ struct: 'GUID', what: 'Data5 declared', expected: 1, actual: 0 }]);
  });
});
