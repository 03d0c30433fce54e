# Sourced by the other scripts: finds the Swift toolchain and the shared corpus.
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
project_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${VIRTKIT_CORPUS:-}" ] && [ -d "$project_root/../shared/corpus" ]; then
    export VIRTKIT_CORPUS=$(cd "$project_root/../shared/corpus" && pwd)
fi
