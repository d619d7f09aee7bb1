#!/usr/bin/env bash
# fleet-cpu.sh — the fleet client's CPU use with N agents at the default
# cadence (metrics every 500 ms each).
#
# The N agents run in one helper process, the client in another (in tmux,
# drawing to a real 160×48 terminal), so the client's CPU time is read
# apart from the agents': utime+stime from /proc/PID/stat over SECS seconds,
# after a warm-up.
#
#   scripts/fleet-cpu.sh            # N=50 SECS=30
#   N=20 SECS=10 scripts/fleet-cpu.sh
#
# The client is `socktop connect URL…` when this build has it, else the
# same fleet view run from the tui test binary (TestFleetToolClient).
set -euo pipefail
N=${N:-50}
SECS=${SECS:-30}
WARMUP=${WARMUP:-5}
cd "$(dirname "$0")/.."
command -v tmux >/dev/null || { echo "fleet-cpu: tmux is needed" >&2; exit 1; }
tmp=$(mktemp -d)
sess="fleetcpu$$"
apid=""
cleanup() {
	tmux kill-session -t "$sess" 2>/dev/null || true
	[ -n "$apid" ] && kill "$apid" 2>/dev/null && wait "$apid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
go build -o "$tmp/socktop" .
go test -c -o "$tmp/tui.test" ./tui

SOCKTOP_FLEET_AGENTS=$N SOCKTOP_FLEET_URLS_FILE="$tmp/urls" \
	"$tmp/tui.test" -test.run '^TestFleetToolAgents$' -test.timeout 0 >"$tmp/agents.log" 2>&1 &
apid=$!
for _ in $(seq 100); do [ -s "$tmp/urls" ] && break; sleep 0.1; done
[ -s "$tmp/urls" ] || { echo "fleet-cpu: the agents did not start" >&2; cat "$tmp/agents.log" >&2; exit 1; }
urls=$(tr '\n' ' ' <"$tmp/urls")

if "$tmp/socktop" connect -h 2>&1 | grep -q 'usage: socktop connect'; then
	client="exec $tmp/socktop connect $urls"
	what="socktop connect (${N} URLs)"
else
	client="SOCKTOP_FLEET_URLS='$urls' exec $tmp/tui.test -test.run '^TestFleetToolClient\$' -test.timeout 0"
	what="fleet view from the tui test binary (socktop connect is not wired in this build)"
fi
tmux new-session -d -s "$sess" -x 160 -y 48 "$client"
cpid=$(tmux display-message -p -t "$sess" '#{pane_pid}')
sleep "$WARMUP"

ticks() { awk '{print $14 + $15}' "/proc/$cpid/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks)
s0=$(date +%s.%N)
sleep "$SECS"
t1=$(ticks)
s1=$(date +%s.%N)
tmux capture-pane -p -t "$sess" >"$tmp/screen.txt"
header=$(grep -m1 'socktop fleet' "$tmp/screen.txt" || true)
awk -v t0="$t0" -v t1="$t1" -v hz="$hz" -v s0="$s0" -v s1="$s1" -v n="$N" -v what="$what" -v hdr="$header" 'BEGIN {
	cpu = (t1 - t0) / hz; wall = s1 - s0
	printf "client: %s\n", what
	printf "agents: %d (one separate process), cadence: metrics 500 ms each\n", n
	printf "client CPU: %.2f s over %.1f s = %.2f%% of one core\n", cpu, wall, 100 * cpu / wall
	printf "screen header: %s\n", hdr
}'
