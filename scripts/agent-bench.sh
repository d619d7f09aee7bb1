#!/usr/bin/env bash
# Measures the agent against the Floor (readdir of /proc plus one
# open+read+close of every /proc/<pid>/stat, measured on the same machine
# with the same processes) with PROCS more live processes: CPU per
# process-list request in each dialect, one client at upstream's cadence,
# and 100 and 500 clients (dashboards) on the default configuration, both
# subscribed and asking for every sample. Prints the README's table.
#
#   scripts/agent-bench.sh                     # ~8 minutes
#   DURATION=30s PROCS=300 scripts/agent-bench.sh
#   FANOUT="100" scripts/agent-bench.sh        # leave out the 500 rows ("" for none)
#
# The agent runs with its defaults (--max-clients 512, a share of 256 per
# peer address), so the 500 clients come from 4 loopback source addresses
# (127.0.0.1-4). Everything runs on loopback and stops by itself; every
# process it starts is killed on exit. Run it on a quiet machine: the
# figures are CPU times, but a busy machine inflates them all.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-60s}
PROCS=${PROCS:-1000}
FANOUT=${FANOUT-100 500}
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

go build -o "$tmp/socktop" .
go build -o "$tmp/loadtest" ./scripts/loadtest

for _ in $(seq "$PROCS"); do sleep 3600 & pids+=($!); done
nprocs=$(ls -d /proc/[0-9]* | wc -l)
# The Floor's scans are spaced as the agent's are (one every 150 ms at
# most): back to back, with warm caches, a scan costs about half as much.
echo "# Floor: loadtest -floor 40 (median thread CPU of one scan, one every 150 ms, $nprocs processes)" >&2
floor_ms=$("$tmp/loadtest" -floor 40 | grep -o 'floor-ms=[0-9.]*' | cut -d= -f2)
# A program that does nothing but the Floor every 2 s, measured as the agent
# is (every thread of the process: its runtime's wake-ups included).
echo "# Floor program: loadtest -floor 10 -floor-every 2s (process CPU per scan)" >&2
floor_prog_ms=$("$tmp/loadtest" -floor 10 -floor-every 2s | grep -o 'process-ms=[0-9.]*' | cut -d= -f2)

start_agent() { # env assignments…
	env "$@" "$tmp/socktop" agent --listen 127.0.0.1 -p 0 2>"$tmp/agent.log" &
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
declare -A per_req
for d in v2 command json; do
	start_agent SOCKTOP_AGENT_PROCESSES_TTL_MS=0
	per_req[$d]=$("$tmp/loadtest" -url "$url" -pid "$agent_pid" -dialect "$d" -flood processes -duration 20s | tee /dev/stderr | field 'cpu/request')
	stop_agent
done

# 2. Upstream's cadence (metrics 500 ms, processes 2 s, disks 5 s), default
# TTLs, 1 client and the fan-out: subscribed (what `socktop connect` does
# against this agent), then asking for every sample in the command dialect
# (what upstream's TUI does).
run_load() { # label, loadtest flags…
	local label=$1
	shift
	start_agent
	"$tmp/loadtest" -url "$url" -pid "$agent_pid" -duration "$DURATION" "$@" | tee /dev/stderr >"$tmp/$label"
	stop_agent
}
run_load sub1 -clients 1 -subscribe
run_load cmd1 -clients 1 -dialect command
for n in $FANOUT; do
	run_load "sub$n" -clients "$n" -subscribe -sources 4
	run_load "cmd$n" -clients "$n" -dialect command -sources 4
done

cpu_of() { grep -o 'cpu=[0-9.]*s' "$tmp/$1" | tr -dc '0-9.'; }
rss_of() { field rss <"$tmp/$1"; }
refused_of() { field refused <"$tmp/$1"; }
d=${DURATION%s}
scan=$(awk -v f="$floor_ms" -v d="$d" 'BEGIN { print f * (d / 2) / 1000 }') # one Floor scan every 2 s, CPU seconds
prog=$(awk -v f="$floor_prog_ms" -v d="$d" 'BEGIN { print f * (d / 2) / 1000 }') # the Floor program over the run
printf '\n| measure (%d processes, %s per run, load %s) | subscribed (`socktop connect`) | asking (upstream TUI, command dialect) | goal |\n| --- | --- | --- | --- |\n' \
	"$nprocs" "$DURATION" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '| Floor scan (readdir + open/read/close of every stat, one every 150 ms) | %.2f ms | | |\n' "$floor_ms"
printf '| Floor program (the scan every 2 s, all its threads) | %.2f ms a scan | | |\n' "$floor_prog_ms"
awk -v f="$floor_ms" -v v="${per_req[v2]}" -v c="${per_req[command]}" -v j="${per_req[json]}" 'BEGIN {
	printf "| agent CPU per process-list request (TTL 0): v2 / command / JSON | %.2f ms = **%.2f×** Floor | %.2f / %.2f ms = **%.2f× / %.2f×** | ≤ 0.70× |\n", v, v / f, c, j, c / f, j / f }'
awk -v scan="$scan" -v prog="$prog" -v d="$d" -v s1="$(cpu_of sub1)" -v c1="$(cpu_of cmd1)" 'BEGIN {
	printf "| 1 client at upstream cadence: %% of a core; × a Floor scan every 2 s; × the Floor program | %.3f %%; **%.2f×**; %.2f× | %.3f %%; **%.2f×**; %.2f× | ≤ 0.30 %%; ≤ 1.0× |\n", 100 * s1 / d, s1 / scan, s1 / prog, 100 * c1 / d, c1 / scan, c1 / prog }'
for n in $FANOUT; do
	awk -v n="$n" -v s1="$(cpu_of sub1)" -v c1="$(cpu_of cmd1)" -v s="$(cpu_of "sub$n")" -v c="$(cpu_of "cmd$n")" \
		-v rs="$(refused_of "sub$n")" -v rc="$(refused_of "cmd$n")" 'BEGIN {
		printf "| %d clients at that cadence (4 source addresses): × one client; refused | %.2f s CPU = **%.2f×**; %d | %.2f s CPU = **%.2f×**; %d | ≤ 3×; 0 |\n", n, s, s / s1, rs, c, c / c1, rc }'
done
rss_row="| agent RSS, 1 client"
vals_s="$(rss_of sub1)" vals_c="$(rss_of cmd1)"
for n in $FANOUT; do rss_row+=" / $n clients"; vals_s+=" / $(rss_of "sub$n")"; vals_c+=" / $(rss_of "cmd$n")"; done
printf '%s | %s MiB | %s MiB | ≤ 64 MiB |\n' "$rss_row" "$vals_s" "$vals_c"
