#!/usr/bin/env bash
# Builds the DocC documentation of every library module (swift-docc-plugin) and fails on
# any DocC warning (and on any compiler warning of the symbol-graph build). Scripts/test.sh
# runs it after the tests: about 3.5 min with a warm .build, 5 cold.
# Output: .build/plugins/Swift-DocC/outputs/<Module>.doccarchive
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/env.sh
targets=(VirtCore VirtLogging Libvirt LosslessXML DomainXML LibvirtXML HostProbe CgroupControl LibvirtJoins Tuning VirtKit)
args=()
for t in "${targets[@]}"; do args+=(--target "$t"); done
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s)
swift package --disable-sandbox generate-documentation --warnings-as-errors "${args[@]}" 2>&1 | tee "$log"
if grep -q "warning:" "$log"; then
    echo "docs.sh: DocC reported warnings" >&2
    exit 1
fi
echo "docs.sh: ${#targets[@]} modules documented without warnings in $(( $(date +%s) - start )) s"
