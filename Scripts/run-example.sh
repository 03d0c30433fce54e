#!/usr/bin/env bash
# Quick start: installs what the build needs (libvirt's headers) and runs the main
# example, `virtkit report`, against libvirt's embedded test driver (no daemon needed).
# Extra arguments go to `virtkit report` (e.g. --json, --uri qemu:///system).
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/env.sh
Scripts/install-deps.sh pkg-config libvirt-dev
swift run -c release virtkit report "$@"
