#!/usr/bin/env bash
# Build the documentation site with warnings as errors: `bash docs/build.sh [SITE_DIR]`.
# Installs nothing: needs the `[docs]` extra in the active environment (or MKDOCS=/path/to/mkdocs).
# Without SITE_DIR the site goes to a temporary folder, removed afterwards (a check, as in CI).
# The `mkdocs` command, not `python -m mkdocs`: the latter would put the source folder first on
# sys.path, where ./dotstack lacks the subpackages mapped from drivers/, sequencer/, ...
set -euo pipefail
cd "$(dirname "$0")/.."
MKDOCS=${MKDOCS:-mkdocs}
if [ $# -ge 1 ]; then
    site=$1
else
    site=$(mktemp -d "${TMPDIR:-/tmp}/dotstack-site-XXXXXX")
    trap 'rm -rf "$site"' EXIT
fi
start=$SECONDS
NO_MKDOCS_2_WARNING=1 "$MKDOCS" build --strict --clean --site-dir "$site"
echo "== docs built (strict) in $((SECONDS - start)) s: $site"
