#!/usr/bin/env bash
# Measures the agent against the Floor benchmark (readdir of /proc plus one
# read of every /proc/<pid>/stat) with ~1000 live processes, at upstream's
# cadence, and with 100 clients, both for subscribed clients and for clients
# that ask for every sample. Prints the README's table.
#
#   scripts/agent-bench.sh            # ~5 minutes
#   DURATION=60s scripts/agent-bench.sh
#
# Everything runs on loopback and stops by itself. Run it on a quiet machine:
# the figures are CPU times, but a busy machine inflates them all.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-60s}
PROCS=${PROCS:-1000}
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

echo "# Floor: go test -run '^\$' -bench '^BenchmarkFloor\$' -benchtime 300x ./procfs" >&2
floor_ns=$(go test -run '^$' -bench '^BenchmarkFloor$' -benchtime 300x ./procfs |
	awk '/^BenchmarkFloor/ { for (i = 2; i <= NF; i++) if ($(i+1) == "cpu-ns/op") c = $i; else if ($(i+1) == "ns/op") n = $i }
	     END { print (c != "" ? c : n) }')

for _ in $(seq "$PROCS"); do sleep 3600 & pids+=($!); done
nprocs=$(ls -d /proc/[0-9]* | wc -l)

start_agent() { # env assignments…
	env "$@" "$tmp/socktop" agent --listen 127.0.0.1 -p 0 --max-clients 256 2>"$tmp/agent.log" &
	agent_pid=$!
	pids+=("$agent_pid")
	for _ in $(seq 100); do
		url=$(grep -o 'url=ws://[^ ]*' "$tmp/agent.log" | head -1 | cut -d= -f2) && [ -n "$url" ] && return
		sleep 0.1
	done
	echo "agent did not start" >&2; cat "$tmp/agent.log" >&2; exit 1
}
stop_agent() { kill "$agent_pid"; wait "$agent_pid" 2>/dev/null || true; }
field() { grep -o "$1=[0-9.]*" | head -1 | cut -d= -f2; }

# 1. CPU per process-list request, no caching: every request collects.
start_agent SOCKTOP_AGENT_PROCESSES_TTL_MS=0
per_req=$("$tmp/loadtest" -url "$url" -pid "$agent_pid" -flood processes -duration 20s | tee /dev/stderr | field 'cpu/request')
stop_agent

# 2. Upstream's cadence (metrics 500 ms, processes 2 s, disks 5 s), default
# TTLs, 1 client and 100: subscribed (what `socktop connect` does against
# this agent), then asking for every sample in the command dialect (what
# upstream's TUI does).
run_load() { # label, loadtest flags…
	local label=$1
	shift
	start_agent
	"$tmp/loadtest" -url "$url" -pid "$agent_pid" -duration "$DURATION" "$@" | tee /dev/stderr >"$tmp/$label"
	stop_agent
}
run_load sub1 -clients 1 -subscribe
run_load sub100 -clients 100 -subscribe
run_load cmd1 -clients 1 -dialect command
run_load cmd100 -clients 100 -dialect command

cpu_of() { grep -o 'cpu=[0-9.]*s' "$tmp/$1" | tr -dc '0-9.'; }
rss_of() { field rss <"$tmp/$1"; }
awk -v floor="$floor_ns" -v per="$per_req" -v dur="$DURATION" -v n="$nprocs" \
	-v s1="$(cpu_of sub1)" -v s100="$(cpu_of sub100)" -v c1="$(cpu_of cmd1)" -v c100="$(cpu_of cmd100)" \
	-v rs1="$(rss_of sub1)" -v rs100="$(rss_of sub100)" -v rc1="$(rss_of cmd1)" -v rc100="$(rss_of cmd100)" 'BEGIN {
	d = dur; sub(/s$/, "", d)
	floor_ms = floor / 1e6
	scan = floor_ms * (d / 2) / 1000   # one Floor scan every 2 s, in CPU seconds
	printf "\n| measure (%d processes, %s per run) | subscribed (`socktop connect`) | asking (upstream TUI, command dialect) | goal |\n| --- | --- | --- | --- |\n", n, dur
	printf "| Floor scan (readdir + read of every stat) | %.2f ms | | |\n", floor_ms
	printf "| agent CPU per process-list request (TTL 0) | | %.2f ms = **%.2f× Floor** | ≤ 1.2× |\n", per, per / floor_ms
	printf "| 1 client at upstream cadence, × a Floor scan every 2 s | %.2f s CPU = **%.2f×** | %.2f s CPU = **%.2f×** | ≤ 1.3× |\n", s1, s1 / scan, c1, c1 / scan
	printf "| 100 clients at that cadence, × one client | %.2f s CPU = **%.2f×** | %.2f s CPU = **%.2f×** | ≤ 3× |\n", s100, s100 / s1, c100, c100 / c1
	printf "| agent RSS, 1 client / 100 clients | %s / %s MiB | %s / %s MiB | ≤ 20 / ≤ 40 MiB |\n", rs1, rs100, rc1, rc100
}'
