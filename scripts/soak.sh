#!/usr/bin/env bash
# Soak test: CLIENTS dashboards (default 20) at upstream's cadence (metrics
# every 500 ms, processes 2 s, disks 5 s) against one agent for DURATION
# (default 30 minutes). Every INTERVAL (default 1 minute) it samples the
# agent's RSS and threads (/proc/<pid>/status), open fds (/proc/<pid>/fd;
# the process sampler's held /proc/<pid>/stat files counted apart),
# CPU (/proc/<pid>/stat) and goroutines and clients (socktop_agent_goroutines
# and socktop_agent_clients on /metrics), and prints one table row. At the
# end it prints the load's latency and errors, and a verdict: goroutines,
# fds and RSS must stay flat under load and return to the idle baseline once
# the clients leave. Exit status 1 when they do not.
#
#   scripts/soak.sh                                  # 30 min, 20 clients, 1-minute rows
#   DURATION=3m INTERVAL=20s scripts/soak.sh         # a short proof run
#   CLIENTS=50 DIALECT=command DURATION=2h scripts/soak.sh
#   SUBSCRIBE=1 scripts/soak.sh                      # clients that subscribe (v2 pushes)
#
# Not for CI. Everything runs on loopback and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-30m}
INTERVAL=${INTERVAL:-60s}
CLIENTS=${CLIENTS:-20}
DIALECT=${DIALECT:-v2}

seconds() { # 90s, 3m, 1h, 45 → seconds
	local v=$1
	case $v in
	*h) echo $((${v%h} * 3600)) ;;
	*m) echo $((${v%m} * 60)) ;;
	*s) echo "${v%s}" ;;
	*) echo "$v" ;;
	esac
}
dur_s=$(seconds "$DURATION")
int_s=$(seconds "$INTERVAL")
if ! [[ $dur_s =~ ^[0-9]+$ && $int_s =~ ^[0-9]+$ ]] || ((dur_s < 1 || int_s < 1 || int_s > dur_s)); then
	echo "soak.sh: DURATION and INTERVAL take whole seconds, minutes or hours (90s, 3m, 1h), INTERVAL ≤ DURATION" >&2
	exit 2
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/socktop" .
go build -o "$tmp/loadtest" ./scripts/loadtest

: >"$tmp/agent.log"
"$tmp/socktop" agent --listen 127.0.0.1 -p 0 2>"$tmp/agent.log" &
agent=$!
pids+=("$agent")
url=
for _ in $(seq 100); do
	url=$(grep -o 'url=ws://[^ ]*' "$tmp/agent.log" | head -1 | cut -d= -f2) && [ -n "$url" ] && break
	sleep 0.1
done
[ -n "$url" ] || { echo "soak.sh: the agent did not start" >&2; cat "$tmp/agent.log" >&2; exit 1; }
hostport=${url#ws://}
hostport=${hostport%%/*}

hz=$(getconf CLK_TCK)
scrape() { # prints the agent's /metrics, over bash's /dev/tcp (no curl needed)
	exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}"
	printf 'GET /metrics HTTP/1.0\r\nHost: %s\r\n\r\n' "$hostport" >&3
	cat <&3
	exec 3<&-
}
prev_ticks=
prev_t=
# sample LABEL: prints one row; sets rss_kb, gor, fds, clients.
sample() {
	local label=$1 now ticks cpu m
	now=$(date +%s.%N)
	rss_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$agent/status")
	threads=$(awk '/^Threads:/ { print $2 }' "/proc/$agent/status")
	# Open files other than the /proc/<pid>/stat files the process sampler
	# holds between scans (those follow the machine's process count).
	fds=$(find "/proc/$agent/fd" -mindepth 1 -printf '%l\n' 2>/dev/null | grep -vc '^/proc/' || true)
	held=$(find "/proc/$agent/fd" -mindepth 1 -printf '%l\n' 2>/dev/null | grep -c '^/proc/' || true)
	# utime and stime are fields 14 and 15; the name (field 2) has no spaces here.
	ticks=$(awk '{ print $14 + $15 }' "/proc/$agent/stat")
	m=$(scrape)
	gor=$(echo "$m" | awk '$1 == "socktop_agent_goroutines" { print $2 }')
	clients=$(echo "$m" | awk '$1 == "socktop_agent_clients" { print $2 }')
	cpu=-
	if [ -n "$prev_ticks" ]; then
		cpu=$(awk -v d="$((ticks - prev_ticks))" -v hz="$hz" -v a="$prev_t" -v b="$now" 'BEGIN { printf "%.2f", 100 * d / hz / (b - a) }')
	fi
	prev_ticks=$ticks prev_t=$now
	printf '| %-9s | %8.1f | %10s | %3s | %4s | %7s | %7s | %8s |\n' "$label" "$(awk -v k="$rss_kb" 'BEGIN { print k / 1024 }')" "$gor" "$fds" "$held" "$threads" "$clients" "$cpu"
}

echo "# socktop soak: $CLIENTS clients ($DIALECT$([ "${SUBSCRIBE:-0}" = 1 ] && echo ', subscribed')) for $DURATION, a row every $INTERVAL; agent pid $agent at $url"
echo "# $(uname -srm), $(nproc) CPUs, go $(go env GOVERSION), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo
echo "| elapsed   | RSS MiB  | goroutines | fds | held /proc files | threads | clients | CPU %    |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
sample "idle"
idle_gor=$gor idle_fds=$fds idle_rss=$rss_kb

sub=()
[ "${SUBSCRIBE:-0}" = 1 ] && sub=(-subscribe)
"$tmp/loadtest" -url "$url" -pid "$agent" -clients "$CLIENTS" -dialect "$DIALECT" "${sub[@]}" -duration "${dur_s}s" >"$tmp/load.out" 2>&1 &
load=$!
pids+=("$load")
start=$(date +%s)
first_gor= first_fds= first_rss=
max_gor=0 max_fds=0 max_rss=0
while :; do
	sleep "$int_s"
	kill -0 "$load" 2>/dev/null || break
	el=$(($(date +%s) - start))
	sample "$((el / 60))m$(printf '%02d' $((el % 60)))s"
	if [ -z "$first_gor" ]; then first_gor=$gor first_fds=$fds first_rss=$rss_kb; fi
	((gor > max_gor)) && max_gor=$gor
	((fds > max_fds)) && max_fds=$fds
	((rss_kb > max_rss)) && max_rss=$rss_kb
	last_gor=$gor last_fds=$fds last_rss=$rss_kb
	((el + int_s > dur_s + 1)) && break
done
wait "$load" || { echo "soak.sh: loadtest failed" >&2; cat "$tmp/load.out" >&2; exit 1; }
sleep 2 # let the agent finish closing the clients' connections
sample "after"
after_gor=$gor after_fds=$fds after_rss=$rss_kb
echo
echo '```'
cat "$tmp/load.out"
echo '```'

if [ -z "$first_gor" ]; then
	echo "soak.sh: no sample under load (DURATION too short for INTERVAL?)" >&2
	exit 1
fi
verdict=0
check() { # name ok message
	if [ "$2" = 1 ]; then echo "- $1: ok — $3"; else echo "- $1: GROWTH — $3"; verdict=1; fi
}
echo
check "goroutines under load" "$((last_gor <= first_gor + 2))" "first $first_gor, last $last_gor, max $max_gor"
check "fds under load" "$((last_fds <= first_fds + 2))" "first $first_fds, last $last_fds, max $max_fds"
# RSS: the Go heap breathes with each sample; growth means the last sample
# above the first by more than a quarter and 4 MiB.
check "RSS under load" "$((last_rss <= first_rss * 5 / 4 || last_rss <= first_rss + 4096))" \
	"first $((first_rss / 1024)) MiB, last $((last_rss / 1024)) MiB, max $((max_rss / 1024)) MiB"
check "goroutines after the clients left" "$((after_gor <= idle_gor + 2))" "idle $idle_gor, after $after_gor"
check "fds after the clients left" "$((after_fds <= idle_fds + 2))" "idle $idle_fds, after $after_fds"
echo "- RSS idle before → after: $((idle_rss / 1024)) → $((after_rss / 1024)) MiB"
errors=$(grep -o 'errors=[0-9]*' "$tmp/load.out" | cut -d= -f2 | awk '{ s += $1 } END { print s + 0 }')
check "request errors" "$((errors == 0))" "$errors"
exit "$verdict"
