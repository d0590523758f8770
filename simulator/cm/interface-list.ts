/**
 * The raw result of CM_Get_Device_Interface_List_SizeW / CM_Get_Device_Interface_ListW: a REG_MULTI_SZ
 * of symbolic links in UTF-16LE, sized in WCHARs (reference §3.1).
 *
 * Written here independently of the device-side decoder (STYLE.md §7: the client and the simulator must
 * not share one possibly wrong codec).
 */

/**
 * Required buffer size in WCHARs: every link and its NUL, plus the final NUL of the multi-sz.
 *
 * ASSUMPTION (reference §3.3 "Inferred"): an empty list has size 1 (a single NUL).
 */
export function multiSzChars(links: readonly string[]): number {
  let n = 1;
  for (const l of links) n += l.length + 1;
  return n;
}

/**
 * Writes `links` as a REG_MULTI_SZ into a new `bufferChars * 2`-byte buffer, zero-filled after the
 * list. The caller has checked `bufferChars >= multiSzChars(links)`.
 */
export function writeMultiSz(links: readonly string[], bufferChars: number): Uint8Array {
  const out = new Uint8Array(bufferChars * 2);
  let o = 0;
  for (const l of links) {
    for (let i = 0; i < l.length; i++) {
      const c = l.charCodeAt(i);
      out[o] = c & 0xff;
      out[o + 1] = c >>> 8;
      o += 2;
    }
    o += 2; // the link's NUL (already zero)
  }
  // The final NUL (and the rest of the buffer) is already zero.
  return out;
}
