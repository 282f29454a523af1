#!/usr/bin/env bash
# Fetches real-world calendar files for crates/domain/tests/ics_corpus.rs (issue 7): every
# .ics under the tests of the Python `icalendar` package's source distribution, a suite of
# invitations nobody here wrote, broken ones included. They are that project's files
# (BSD-2-Clause, its LICENSE.rst is kept beside them), so they live in a cache outside the
# clone and are never committed.
#
# The version and the sha256 of its sdist are pinned (as PyPI lists them); pip fetches the
# sdist and refuses it unless the hash matches, and the hash is checked again here.
# Prints the corpus folder on its last line. Idempotent: a finished folder is reused.
set -euo pipefail

VERSION=7.3.2
SHA256=f15380927aed4318860e001c03b543c48578c73aec46e2d384c5d0802082b808
DEST="${ICS_CORPUS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/countersign/ics-corpus/$VERSION}"

if [[ -f "$DEST/.complete" ]]; then
    echo "$DEST"
    exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "fetching the icalendar $VERSION test calendars (first time only)..." >&2
printf 'icalendar==%s --hash=sha256:%s\n' "$VERSION" "$SHA256" >"$work/requirements.txt"
# --no-binary: the wheel carries no tests; the sdist does.
python3 -m pip download --quiet --no-deps --no-binary :all: --require-hashes \
    -r "$work/requirements.txt" -d "$work/download" >&2
sdist="$work/download/icalendar-$VERSION.tar.gz"
echo "$SHA256  $sdist" | sha256sum --check --quiet -

mkdir -p "$work/corpus"
# Keep the folders under tests/ (calendars/, events/, ...): some names repeat between them.
tar -xzf "$sdist" -C "$work/corpus" --strip-components=4 --wildcards \
    "icalendar-$VERSION/src/icalendar/tests/*.ics"
tar -xzf "$sdist" -C "$work/corpus" --strip-components=1 "icalendar-$VERSION/LICENSE.rst"
count="$(find "$work/corpus" -name '*.ics' | wc -l)"
if [[ "$count" -eq 0 ]]; then
    echo "no .ics files found in the icalendar $VERSION sdist" >&2
    exit 1
fi
touch "$work/corpus/.complete"

mkdir -p "$(dirname "$DEST")"
# A rename, so a run that dies half-way never leaves a folder that looks finished.
rm -rf "$DEST"
mv "$work/corpus" "$DEST"
echo "$count calendar files in $DEST" >&2
echo "$DEST"
