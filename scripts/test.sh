#!/usr/bin/env bash
# Runs the whole test suite with tap and ends with one summary line:
#   N passed, N failed[, N skipped]
# (counted over assertions), exiting non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# tap's own reporter for people; its final "# { total, pass, fail, skip }" comment for the count.
npx tap --reporter=tap --timeout=600 'test/**/*.test.ts' "$@" 2>&1 | tee "$log" | grep -E '^\s*(not ok|# Subtest: test/|ok [0-9]+ - test/|# \{)' 
status=${PIPESTATUS[0]}

summary=$(grep -E '^# \{ total:' "$log" | tail -n 1)
count() { echo "$summary" | grep -oE "$1: [0-9]+" | grep -oE '[0-9]+' || echo 0; }
passed=$(count pass)
failed=$(count fail)
skipped=$(count skip)
if [ -z "$summary" ]; then
  echo "tap printed no summary (exit $status)"
  failed=$((failed + 1))
fi
# Print every skip reason so that no skip goes unexplained.
grep -E '# SKIP' "$log" | sed 's/^ */skipped: /' | sort -u
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
if [ "$status" -ne 0 ] || [ "$failed" -gt 0 ]; then exit 1; fi
