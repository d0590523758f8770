#!/usr/bin/env bash
# The lab-in-a-box tier's container image, made without any registry: a root filesystem holding this
# machine's `node` binary and the shared libraries `ldd` lists for it (plus the dynamic loader), turned into
# an image by `docker import`. Nothing else is in it: the project (dist/, node_modules/, package.json, the
# CLI's bin.js) is bind-mounted read-only when a container starts (.ci/tiers/containers/agent-container.ts).
#
#   bash .ci/tiers/containers/node-image.sh      prints the image name on stdout (progress on stderr)
#
# The tag is a hash of the binary and its libraries: the same node reuses the image, another node (an
# upgrade, the Node 24 of .ci/run) gets a new one, and older tags of the repository are removed.
# Needs a running Docker engine and the docker CLI.
set -euo pipefail

REPO="usbfn-hil-lab-node"
log() { printf '[containers-tier] %s\n' "$*" >&2; }

NODE_BIN="$(readlink -f "$(command -v node)")"
[ -x "$NODE_BIN" ] || { log "no node on PATH"; exit 1; }
# ldd prints "libX.so => /path (0x…)" for libraries and "/lib64/ld-linux-x86-64.so.2 (0x…)" for the loader;
# linux-vdso has no file.
mapfile -t LIBS < <(ldd "$NODE_BIN" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
[ "${#LIBS[@]}" -gt 0 ] || { log "ldd listed no shared library for $NODE_BIN (a static node is fine, but ldd should at least list the loader)"; exit 1; }

NODE_VERSION="$("$NODE_BIN" --version)"
HASH="$(sha256sum "$NODE_BIN" "${LIBS[@]}" | sha256sum | cut -c1-12)"
IMAGE="$REPO:${NODE_VERSION#v}-$HASH"

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  log "image $IMAGE is there already"
  echo "$IMAGE"
  exit 0
fi

ROOTFS="$(mktemp -d "${TMPDIR:-/tmp}/usbfn-hil-rootfs.XXXXXX")"
trap 'rm -rf "$ROOTFS"' EXIT
mkdir -p "$ROOTFS/usr/local/bin" "$ROOTFS/etc" "$ROOTFS/tmp" "$ROOTFS/usbfn-hil"
chmod 1777 "$ROOTFS/tmp"
cp "$NODE_BIN" "$ROOTFS/usr/local/bin/node"
for lib in "${LIBS[@]}"; do
  # --parents keeps the path (/lib/x86_64-linux-gnu/…, /lib64/…) where the loader looks; -L copies the file a
  # symlink names under the symlink's own name.
  cp -L --parents "$lib" "$ROOTFS"
done
# Enough identity for getpwuid (os.userInfo) to answer; the agent runs as root in its container.
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$ROOTFS/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOTFS/etc/group"

started=$SECONDS
tar -C "$ROOTFS" -c . | docker import \
  --change 'ENTRYPOINT ["/usr/local/bin/node"]' \
  --change 'WORKDIR /usbfn-hil' \
  --change "LABEL org.usbfn-hil.node=$NODE_VERSION" \
  - "$IMAGE" >/dev/null
log "imported $IMAGE ($(du -sh "$ROOTFS" | cut -f1): node $NODE_VERSION and ${#LIBS[@]} libraries) in $((SECONDS - started)) s"

# Older images of this repository (another node) only take space.
docker image ls "$REPO" --format '{{.Repository}}:{{.Tag}}' | grep -vxF "$IMAGE" | xargs -r docker image rm >/dev/null 2>&1 || true
echo "$IMAGE"
