#!/usr/bin/env bash
# The exporter's checks end to end: its tests (a real Prometheus server scrapes the binary),
# `promtool check metrics` on a scrape of the local qemu:///system, and the benchmark
# against Debian's prometheus-libvirt-exporter (kumina's) in the same run.
#   Scripts/exporter-check.sh [--no-bench] [virtkit-bench exporter options…]
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/env.sh
bench=1
if [ "${1:-}" = "--no-bench" ]; then bench=0; shift; fi
Scripts/install-deps.sh
Scripts/start-libvirt.sh

swift build --build-tests
swift test --skip-build --filter 'VirtKitExporterTests'

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
.build/debug/virtkit-exporter --uri qemu:///system --listen "127.0.0.1:$port" --log-level warning &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
curl -sf "127.0.0.1:$port/metrics" | promtool check metrics
echo "exporter-check: promtool accepts a qemu:///system scrape"
kill "$pid"; wait "$pid" || true; trap - EXIT

if [ "$bench" = 1 ]; then
    swift build -c release --product virtkit-exporter
    swift build -c release --product virtkit-bench
    .build/release/virtkit-bench exporter "$@"
fi
