#!/usr/bin/env bash
# Builds the container image with podman and smoke-tests it; not part of ctest (minutes, root).
#   deploy/image/build-and-smoke-test.sh [TAG]      (run from anywhere, as root)
# Where Docker Hub is unreachable (as on the project's machines), the debian:12 / debian:12-slim
# base images are made locally from Debian's own packages with mmdebstrap (minbase variant, so the
# base is larger than the official slim image). Where `podman run` cannot start containers (no
# cgroup or rlimit permissions in a sandbox), the smoke test runs the image's root file system
# with chroot as the image's user: the same files, libraries, user, config and entrypoint.
set -euo pipefail
tag=${1:-localhost/beam_exporter:dev}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/beam-exporter-image.XXXXXX)
cleanup() {
  [ -n "${exporter:-}" ] && kill "$exporter" 2>/dev/null
  [ -n "${node:-}" ] && kill -9 "$node" 2>/dev/null
  [ -n "${ctr:-}" ] && podman rm -f "$ctr" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

if ! podman image exists docker.io/library/debian:12 && ! timeout 30 podman pull -q docker.io/library/debian:12-slim docker.io/library/debian:12 >/dev/null 2>&1; then
  echo "== no registry: building debian:12 from Debian packages (mmdebstrap)" >&2
  mmdebstrap --quiet --variant=minbase bookworm "$work/base.tar"
  podman import -q "$work/base.tar" docker.io/library/debian:12 >/dev/null
  podman tag docker.io/library/debian:12 docker.io/library/debian:12-slim
fi
echo "== podman build" >&2
podman build -q --format docker --isolation chroot --network host --ignorefile "$root/deploy/Dockerfile.dockerignore" \
  --build-arg REVISION="$(git -C "$root" rev-parse --short=12 HEAD)" \
  -f "$root/deploy/Dockerfile" -t "$tag" "$root" >/dev/null
podman images "$tag" --format 'image {{.Repository}}:{{.Tag}} size {{.Size}}'
podman history "$tag" --format '  {{.Size}}	{{.CreatedBy}}' | cut -c1-100 | sed -n 6,10p

echo "== smoke test: the image's entrypoint and config as user 65532, against a real erl node" >&2
ctr=$(podman create -q "$tag")
rootfs=$(podman mount "$ctr")  # a container's (writable) copy of the image's root file system
user=$(podman image inspect "$tag" --format '{{.Config.User}}')
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 19568)
cookie=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
name="smoke_$$@127.0.0.1"
erl -name "$name" -setcookie "$cookie" -noshell -noinput >/dev/null 2>&1 & node=$!
mkdir -p "$rootfs/run/secrets" && printf '%s' "$cookie" > "$rootfs/run/secrets/cookie" && chmod 0444 "$rootfs/run/secrets/cookie"
sleep 3
chroot --userspec="$user" "$rootfs" /opt/beam_exporter/bin/beam_exporter --config.file=/etc/beam_exporter/beam_exporter.yml \
  --web.listen-address=127.0.0.1:"$port" --beam.node="$name" --beam.cookie-file=/run/secrets/cookie \
  --telemetry.listen-udp=127.0.0.1:0 --log.format=json > "$work/exporter.log" 2>&1 & exporter=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/-/ready" >/dev/null && break; sleep 0.2; done
sleep 2
# The image's HEALTHCHECK command, run inside the image (port 9568 swapped for this test's port).
health=$(podman image inspect "$tag" --format '{{index .Config.Healthcheck.Test 3}}' | sed "s#/9568#/$port#")
chroot --userspec="$user" "$rootfs" bash -c "$health" && echo "HEALTHCHECK command: healthy"
metrics=$(curl -fs "http://127.0.0.1:$port/metrics")
grep -E "^beam_up|^beam_exporter_build_info" <<<"$metrics"
grep -q "^beam_up{node=\"$name\"} 1" <<<"$metrics" && echo "smoke test: scraped the node through the image"

echo "== the entrypoint as Kubernetes runs it: read-only root, the pod's user, the manifest's args" >&2
"$root/deploy/image/run-entrypoint-like-kubernetes" "$rootfs"
