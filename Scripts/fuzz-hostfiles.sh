#!/usr/bin/env bash
# Fuzzes HostProbe's and CgroupControl's value parsers with libFuzzer, SECONDS each (default 30).
#
#   Scripts/fuzz-hostfiles.sh [SECONDS]
#
# Each target is VirtCore's sources + the module's sources + Fuzz/<Target>/main.swift compiled
# as one module with `swiftc -sanitize=fuzzer,address` (the `import VirtCore` lines are dropped
# from a copy of the sources, since VirtCore is part of the same module there). Seeds: the
# fixture trees' /proc and cgroup files, $VIRTKIT_CORPUS/libvirt-9.0.0/vircgroupdata when present.
# Exits non-zero on a crash, sanitizer report, timeout or out-of-memory (artifacts in .build-fuzz/).
set -euo pipefail

source "$(dirname "$0")/env.sh"   # toolchain on PATH, VIRTKIT_CORPUS, project_root
seconds=${1:-30}
root=$project_root
out="$root/.build-fuzz"
mkdir -p "$out"

build() { # target module-dir
    local target=$1 module=$2 src="$out/src-$1"
    rm -rf "$src"; mkdir -p "$src"
    # The module's Logging.swift needs swift-log (a package): a silent stand-in replaces it.
    find "$root/Sources/VirtCore" "$root/Sources/$module" -name '*.swift' ! -name Logging.swift | while read -r f; do
        grep -v '^import VirtCore$' "$f" > "$src/$(basename "$(dirname "$f")")-$(basename "$f")"
    done
    cp "$root/Fuzz/Support/SilentLog.swift" "$src/"
    echo "fuzz-hostfiles: building $target (log: $out/$target-build.log)"
    if ! swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name "$target" \
        "$src"/*.swift "$root/Fuzz/$target/main.swift" -o "$out/$target" >"$out/$target-build.log" 2>&1; then
        grep -v "Cannot export local symbol" "$out/$target-build.log" >&2
        echo "fuzz-hostfiles: build of $target failed" >&2
        exit 1
    fi
}

seed() { # target dirs…
    local target=$1; shift
    mkdir -p "$out/corpus-$target"
    for d in "$@"; do
        [ -d "$d" ] || continue
        # Small regular files only (links and special files are not seeds).
        find "$d" -type f -size -64k -exec cp -n {} "$out/corpus-$target/" \; 2>/dev/null || true
    done
}

run() { # target
    echo "fuzz-hostfiles: fuzzing $1 for ${seconds}s"
    "$out/$1" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$out/$1-" "$out/corpus-$1"
}

build CgroupParsersFuzz CgroupControl
build HostProbeParsersFuzz HostProbe
seed CgroupParsersFuzz "$root/Tests/CgroupControlTests/Fixtures" "${VIRTKIT_CORPUS:-/nonexistent}/libvirt-9.0.0/vircgroupdata"
seed HostProbeParsersFuzz "$root/Tests/HostProbeTests/Fixtures/2s4c2t-2n/proc" "$root/Tests/HostProbeTests/Fixtures/captured-epyc-kvm-guest-2cpu/proc"
run CgroupParsersFuzz
run HostProbeParsersFuzz
