#!/usr/bin/env bash
# Keeps the shared cargo target directory from growing without bound across runs: every
# change to a workspace crate leaves its previous test executables behind (hundreds of MB
# each), and incremental caches pile up. Removes all but the newest executable per name in
# debug/deps, and the incremental caches once they pass a size. Dependencies' libraries are
# kept, so the next build is still warm.
set -euo pipefail
target="${CARGO_TARGET_DIR:-$HOME/.cache/countersign/target}"
deps="$target/debug/deps"
[ -d "$deps" ] || exit 0
python3 - "$deps" <<'PY'
import collections, os, re, sys
deps = sys.argv[1]
groups = collections.defaultdict(list)
for name in os.listdir(deps):
    match = re.fullmatch(r'(.+)-([0-9a-f]{16})', name)
    path = os.path.join(deps, name)
    if match and os.path.isfile(path) and os.access(path, os.X_OK):
        groups[match.group(1)].append(path)
freed = 0
for paths in groups.values():
    paths.sort(key=os.path.getmtime, reverse=True)
    for old in paths[1:]:
        freed += os.path.getsize(old)
        os.remove(old)
        if os.path.exists(old + '.d'):
            os.remove(old + '.d')
if freed:
    print(f"prune-target: removed {freed / 1e9:.1f} GB of superseded test executables")
PY
incremental="$target/debug/incremental"
if [ -d "$incremental" ]; then
    size_gb=$(du -s --block-size=1G "$incremental" | cut -f1)
    if [ "$size_gb" -gt 8 ]; then
        echo "prune-target: incremental caches at ${size_gb} GB; clearing them"
        # Best effort: another cargo writing into the same target (a second clone's build)
        # can refill a folder while it is removed; pruning must never fail the test run.
        rm -rf "$incremental" 2>/dev/null ||
            echo "prune-target: another build is using some incremental caches; left them"
    fi
fi
