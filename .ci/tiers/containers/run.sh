#!/usr/bin/env bash
# The lab-in-a-box tier (`npm run test:containers`, docs/lab-in-a-box.md): several device agents (sim
# backend), each in its own container, described by a bench inventory; the harness's lab code (bench list,
# bench pool, leases, LabRig with its broken latch, the host side over USB/IP) runs against them, and a
# container killed mid-session is a device losing power.
#
# Runs on a clean Debian 12 machine as root (CI=true, no stdin), and on a developer machine with Docker.
#   1. the docker CLI and engine: `apt-get install docker.io` when missing (root only);
#   2. the engine: when no engine answers `docker info`, starts `dockerd --iptables=false --ip6tables=false
#      --bridge=none --storage-driver=vfs` (what works in a container without a network stack of its own:
#      every container uses host networking), its log in reports/tiers/containers/dockerd.log, a bounded
#      wait for `docker info`; stopped again on exit when this script started it;
#   3. the image: node-image.sh (`docker import` of this machine's node and its libraries; no registry);
#   4. `npm run build` (dist/ is what the containers run, bind-mounted read-only);
#   5. vitest with containers.vitest.config.ts, bounded by `timeout`.
# A Docker engine that cannot be installed or started FAILS the tier in CI (CI=true) and SKIPS it, with the
# reason, elsewhere. Prints how long each part took, and the tier's wall time at the end.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$ROOT"
OUT="$ROOT/reports/tiers/containers"
ENGINE_START_TIMEOUT_S="${CONTAINERS_ENGINE_START_TIMEOUT_S:-90}"
RUN_TIMEOUT_S="${CONTAINERS_RUN_TIMEOUT_S:-300}"
APT_TIMEOUT_S=600
# Containers of this tier carry this label (agent-container.ts), so leftovers of a killed run can be removed.
LABEL="org.usbfn-hil.tier=containers"
START_S=$SECONDS
mkdir -p "$OUT"

log() { printf '[containers-tier] %s\n' "$*"; }
fail() {
  printf '[containers-tier] ERROR: %s\n' "$*" >&2
  echo "0 passed, 1 failed"
  exit 1
}
# No Docker engine: a failure in CI, a skip with the reason elsewhere (never a silent pass).
unavailable() {
  if [ "${CI:-}" = "true" ]; then
    printf '[containers-tier] FAILED: no Docker engine: %s\n' "$*" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
  printf '[containers-tier] SKIPPED: no Docker engine: %s\n' "$*"
  exit 0
}
engine_up() { timeout 10 docker info >/dev/null 2>&1; }
is_root() { [ "$(id -u)" = 0 ]; }

# --- 0. the project ----------------------------------------------------------------------------------------
[ -x node_modules/.bin/vitest ] || fail "vitest is missing from node_modules: run 'npm ci' first"
[ -d node_modules/testcontainers ] || fail "testcontainers is missing from node_modules: run 'npm ci' first"
command -v timeout >/dev/null || fail "coreutils 'timeout' is required"

# --- 1. docker CLI and engine binaries ---------------------------------------------------------------------
if ! command -v docker >/dev/null 2>&1 || { ! command -v dockerd >/dev/null 2>&1 && ! engine_up; }; then
  if is_root && command -v apt-get >/dev/null 2>&1; then
    log "installing docker.io from Debian"
    export DEBIAN_FRONTEND=noninteractive
    timeout "$APT_TIMEOUT_S" apt-get update -qq || unavailable "apt-get update failed"
    timeout "$APT_TIMEOUT_S" apt-get install -y -qq --no-install-recommends docker.io >/dev/null || unavailable "apt-get install docker.io failed"
  else
    unavailable "the docker CLI or dockerd is not installed and this is not root with apt-get: install docker.io (or Docker Engine) and start it"
  fi
fi

# --- 2. the engine -----------------------------------------------------------------------------------------
ENGINE_PID=""
remove_tier_containers() {
  docker ps -aq --filter "label=$LABEL" 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1 || true
}
finish() {
  local rc=$?
  if [ -n "$ENGINE_PID" ]; then
    remove_tier_containers
    log "stopping the Docker engine this tier started (pid $ENGINE_PID)"
    kill -TERM "$ENGINE_PID" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$ENGINE_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$ENGINE_PID" 2>/dev/null || true
    wait "$ENGINE_PID" 2>/dev/null || true
  fi
  log "wall time $((SECONDS - START_S)) s" >&2
  exit "$rc"
}
trap finish EXIT

if ! engine_up; then
  is_root || unavailable "no engine answers 'docker info', and starting dockerd needs root"
  command -v dockerd >/dev/null 2>&1 || unavailable "no engine answers 'docker info' and dockerd is not installed (apt-get install docker.io)"
  log "starting dockerd (vfs storage, host networking only; log: ${OUT#"$ROOT"/}/dockerd.log)"
  dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs >"$OUT/dockerd.log" 2>&1 &
  ENGINE_PID=$!
  engine_deadline=$((SECONDS + ENGINE_START_TIMEOUT_S))
  until engine_up; do
    if ! kill -0 "$ENGINE_PID" 2>/dev/null; then
      wait "$ENGINE_PID" 2>/dev/null || true
      ENGINE_PID=""
      unavailable "dockerd exited while starting; the end of its log:
$(tail -n 20 "$OUT/dockerd.log")"
    fi
    if [ "$SECONDS" -ge "$engine_deadline" ]; then
      unavailable "dockerd did not answer 'docker info' within ${ENGINE_START_TIMEOUT_S} s; the end of its log:
$(tail -n 20 "$OUT/dockerd.log")"
    fi
    sleep 0.5
  done
  log "dockerd answers after $((SECONDS - START_S)) s"
fi
log "$(docker version --format 'docker engine {{.Server.Version}} (API {{.Server.APIVersion}}), CLI {{.Client.Version}}') · storage driver $(docker info --format '{{.Driver}}')"
remove_tier_containers

# --- 3. the image ------------------------------------------------------------------------------------------
image_started=$SECONDS
IMAGE="$(bash .ci/tiers/containers/node-image.sh)" || fail "could not make the container image (node-image.sh)"
log "image $IMAGE ready in $((SECONDS - image_started)) s"

# --- 4. the build the containers run -----------------------------------------------------------------------
node .ci/build-dist.mjs

# --- 5. the tests ------------------------------------------------------------------------------------------
export USBFN_HIL_LAB_NODE_IMAGE="$IMAGE"
# No registry here: Ryuk (testcontainers' reaper, an image to pull) stays off; the tests stop their containers.
export TESTCONTAINERS_RYUK_DISABLED=true
export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
tests_started=$SECONDS
set +e
timeout "$RUN_TIMEOUT_S" node_modules/.bin/vitest run --config .ci/tiers/containers/containers.vitest.config.ts
rc=$?
set -e
[ "$rc" = 124 ] && log "the tests did not finish within ${RUN_TIMEOUT_S} s"
log "tests took $((SECONDS - tests_started)) s"
remove_tier_containers
exit "$rc"
