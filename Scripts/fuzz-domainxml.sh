#!/usr/bin/env bash
# Fuzzes the XML modules with libFuzzer for SECONDS (default 60): the LosslessXML parser and
# serializer, and the typed views of every libvirt kind (DomainXML, LibvirtXML).
#
#   Scripts/fuzz-domainxml.sh [SECONDS]
#
# Builds VirtCore, LosslessXML, DomainXML and LibvirtXML (one swiftc module each) and
# Fuzz/DomainXMLFuzz/main.swift with `swiftc -sanitize=fuzzer,address`, seeds from
# $VIRTKIT_CORPUS/libvirt-9.0.0/domainxml and xml/* (read only; new inputs go to
# .build-fuzz/corpus) and Tests/DomainXMLTests/Fixtures/hostile, and
# exits non-zero on a crash, sanitizer report, timeout or out-of-memory (artifacts in
# .build-fuzz/). Needs only the Swift toolchain (libFuzzer ships with it on Linux).
set -euo pipefail

seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/.build-fuzz"
mkdir -p "$out/corpus"

if [ -z "${VIRTKIT_CORPUS:-}" ] && [ -d "$root/../shared/corpus" ]; then
    VIRTKIT_CORPUS=$(cd "$root/../shared/corpus" && pwd)
fi
seeds=()
if [ -n "${VIRTKIT_CORPUS:-}" ] && [ -d "$VIRTKIT_CORPUS/libvirt-9.0.0/domainxml" ]; then
    seeds+=("$VIRTKIT_CORPUS/libvirt-9.0.0/domainxml")
    for kind in "$VIRTKIT_CORPUS"/libvirt-9.0.0/xml/*/; do seeds+=("${kind%/}"); done
else
    echo "fuzz-domainxml: VIRTKIT_CORPUS not found; seeding from fixtures only" >&2
fi
if [ -d "$root/Tests/DomainXMLTests/Fixtures/hostile" ]; then
    seeds+=("$root/Tests/DomainXMLTests/Fixtures/hostile")
fi
# Earlier findings, kept as regression seeds.
if [ -d "$root/Tests/DomainXMLTests/Fixtures/fuzz" ]; then
    seeds+=("$root/Tests/DomainXMLTests/Fixtures/fuzz")
fi

echo "fuzz-domainxml: building the fuzz target (log: $out/build.log)"
# ld.gold prints hundreds of harmless "Cannot export local symbol __asan_*" warnings: keep
# them in the log and show it only when the build fails.
modules="$out/modules"
mkdir -p "$modules"
build() {
    # $1 module name, rest: extra flags; sources are everything under Sources/$1.
    local name=$1; shift
    find "$root/Sources/$name" -name '*.swift' -print0 | xargs -0 swiftc -sanitize=fuzzer,address \
        -parse-as-library -O -g -wmo -package-name virtkit -module-name "$name" "$@" -I "$modules" \
        -emit-module -emit-module-path "$modules/$name.swiftmodule" -c -o "$modules/$name.o"
}
if ! { build VirtCore && build LosslessXML -enable-testing && build DomainXML && build LibvirtXML \
       && swiftc -sanitize=fuzzer,address -parse-as-library -O -g -package-name virtkit -module-name XMLFuzz \
            -I "$modules" "$root/Fuzz/DomainXMLFuzz/main.swift" "$modules"/*.o -o "$out/domainxml-fuzz"; } \
     >"$out/build.log" 2>&1; then
    grep -v "Cannot export local symbol" "$out/build.log" >&2
    echo "fuzz-domainxml: build failed" >&2
    exit 1
fi

echo "fuzz-domainxml: fuzzing for ${seconds}s"
# -max_len covers the largest corpus document (~20 KB) with room for growth; -timeout and
# -rss_limit_mb turn hangs and memory blow-ups into failures.
"$out/domainxml-fuzz" \
    -max_total_time="$seconds" \
    -max_len=65536 \
    -timeout=10 \
    -rss_limit_mb=2048 \
    -print_final_stats=1 \
    -dict="$root/Fuzz/DomainXMLFuzz/xml.dict" \
    -artifact_prefix="$out/" \
    "$out/corpus" "${seeds[@]}"
