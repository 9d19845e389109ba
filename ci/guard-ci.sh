#!/bin/sh
# guard's CI step: check every commit between the base and HEAD.
# Usage: ci/guard-ci.sh BASE_REF [FORMAT]     (FORMAT: human, json, sarif, github)
# Exit codes are guard's: 0 passed, 1 blocked, 2 could not evaluate.
set -eu
base=${1:?usage: guard-ci.sh BASE_REF [FORMAT]}
format=${2:-human}
guard=${GUARD:-guard}
if [ "$(git rev-parse --is-shallow-repository)" = "true" ]; then
    echo "guard: this clone is shallow: commits at its boundary cannot be evaluated." >&2
    echo "guard: fetch full history (actions/checkout with fetch-depth: 0, GIT_DEPTH: 0 on GitLab, or git fetch --unshallow)." >&2
    exit 2
fi
if ! git rev-parse --verify --quiet "$base^{commit}" >/dev/null; then
    echo "guard: base $base is not a commit here; fetch it first (git fetch origin $base)" >&2
    exit 2
fi
exec "$guard" check --base "$base" --format "$format"
