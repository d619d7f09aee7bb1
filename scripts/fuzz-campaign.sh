#!/usr/bin/env bash
# Fuzz campaign: runs every `func FuzzX` in the module (or the ones named as
# arguments) for FUZZTIME each (default 10m), JOBS at a time (default 2), each
# with -parallel 1 so a run gets one core. Logs go to OUT (default
# /tmp/socktop-fuzz); the summary prints one row per target with its
# execution count, and the script exits 1 if any target failed. A crasher is
# written by `go test` under the package's testdata/fuzz/, where it stays as a
# seed once fixed.
#
#   scripts/fuzz-campaign.sh                               # all targets, 10 min each
#   FUZZTIME=2m scripts/fuzz-campaign.sh                   # a quicker pass
#   scripts/fuzz-campaign.sh FuzzParseDump FuzzParseStat   # just these
#
# While the file $OUT/pause exists no new target starts (the running ones
# finish), so a benchmark can have the machine to itself.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-10m}
JOBS=${JOBS:-2}
OUT=${OUT:-/tmp/socktop-fuzz}
mkdir -p "$OUT"

# "pkgdir Target" for every fuzz target, or only the named ones.
targets=$(grep -rH '^func Fuzz' --include='*_test.go' . |
	sed -E 's|^\./(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\(.*|\1 \2|' | sort -u)
if [ $# -gt 0 ]; then
	want=" $* "
	targets=$(echo "$targets" | while read -r dir name; do
		case $want in *" $name "*) echo "$dir $name" ;; esac
	done)
fi
[ -n "$targets" ] || { echo "fuzz-campaign: no fuzz targets matched: $*" >&2; exit 2; }

run_one() {
	local dir=$1 name=$2
	while [ -e "$OUT/pause" ]; do sleep 5; done
	echo "$(date +%T) start $name ($dir)"
	if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -parallel 1 "./$dir" >"$OUT/$name.log" 2>&1; then
		echo "$(date +%T) ok    $name"
	else
		echo "$(date +%T) FAIL  $name (see $OUT/$name.log)"
	fi
}
export -f run_one
export OUT FUZZTIME

echo "$targets" | xargs -P "$JOBS" -L 1 bash -c 'run_one "$0" "$1"'

# Summary: the last progress line of each run holds the execution count.
status=0
printf '%-28s %-18s %s\n' target package result
while read -r dir name; do
	log=$OUT/$name.log
	execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | awk '{print $2}')
	if tail -1 "$log" | grep -q '^ok'; then
		res="ok, ${execs:-?} execs"
	else
		res="FAILED"
		status=1
	fi
	printf '%-28s %-18s %s\n' "$name" "$dir" "$res"
done <<<"$targets"
exit $status
