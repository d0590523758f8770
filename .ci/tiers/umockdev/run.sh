#!/usr/bin/env bash
# Real-libusb tier (issue 5): NodeUsbHost replays usbmon captures under umockdev-run, and runs the UsbHost
# contract suite (its replayable section, full and high speed) replayed from the SimUsbHost run (contract-tier.ts).
# Run by .ci/run (as root on Debian 12, CI=true, no stdin): `npm run test:umockdev`.
set -euo pipefail
cd "$(dirname "$0")/../../.."

if ! command -v umockdev-run >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "umockdev tier: installing umockdev from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends umockdev >/dev/null
  elif [ "${CI:-}" = "true" ]; then
    echo "umockdev tier: umockdev-run is missing and cannot be installed (not root or no apt-get)" >&2
    echo "0 passed, 1 failed"
    exit 1
  else
    echo "umockdev tier: SKIPPED: umockdev-run not found; install it with 'sudo apt-get install umockdev'"
    exit 0
  fi
fi
command -v timeout >/dev/null || { echo "umockdev tier: coreutils 'timeout' is required" >&2; exit 1; }

echo "umockdev tier: $(umockdev-run --version 2>/dev/null | head -n1 || true) $(uname -sr)"
exec node --import tsx .ci/tiers/umockdev/umockdev-tier.ts
