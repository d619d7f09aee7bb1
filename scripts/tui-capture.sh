#!/bin/sh
# tui-capture.sh — run the dashboard in a detached tmux session and save the
# screen as text; optionally measure the dashboard's CPU use.
#
#   scripts/tui-capture.sh [OUT.txt]            socktop demo, 120×40, after 5 s
#   COLS=200 ROWS=60 scripts/tui-capture.sh big.txt
#   MODE=connect CPU_SECONDS=30 scripts/tui-capture.sh
#   MODE=connect AGENT_ARGS="--history 1h --history-interval 1s --history-file none" \
#     BURN=10 KEYS="[ {" scripts/tui-capture.sh past.txt   # a past moment
#
# MODE=demo (default) captures `socktop demo`. MODE=connect starts
# `socktop agent` on a loopback port as its own process and captures
# `socktop connect` to it, so CPU_SECONDS measures the dashboard alone: the
# utime+stime ticks of its process (from /proc/PID/stat) over that many
# seconds at the default cadence, printed as % of one core.
# AGENT_ARGS are more flags for that agent; BURN=N keeps a core busy (yes)
# for N seconds, 3 s after the agent starts and 3 s before the dashboard
# does, with nobody connected; KEYS are keys typed (tmux send-keys, one
# word each) after WAIT, before the capture.
# SOCKTOP_BIN names a built binary; otherwise the script builds one.
set -eu

out=${1:-tui-capture.txt}
cols=${COLS:-120}
rows=${ROWS:-40}
wait=${WAIT:-5}
mode=${MODE:-demo}
cpu_seconds=${CPU_SECONDS:-0}
extra=${ARGS:-}
agent_args=${AGENT_ARGS:-}
burn=${BURN:-0}
keys=${KEYS:-}

command -v tmux >/dev/null || { echo "tui-capture: tmux is needed" >&2; exit 1; }
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
bin=${SOCKTOP_BIN:-}
if [ -z "$bin" ]; then
	bin=$tmp/socktop
	CGO_ENABLED=0 go build -o "$bin" .
fi

session="socktop-capture-$$"
agent_pid=""
cleanup() {
	tmux kill-session -t "$session" 2>/dev/null || true
	[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

case "$mode" in
demo)
	cmd="$bin demo $extra"
	;;
connect)
	port=${PORT:-39123}
	# shellcheck disable=SC2086 # AGENT_ARGS is a list of flags
	"$bin" agent --listen "127.0.0.1:$port" $agent_args >"$tmp/agent.log" 2>&1 &
	agent_pid=$!
	i=0
	until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
	if [ "$burn" -gt 0 ]; then
		sleep 3
		timeout "$burn" yes >/dev/null || true
		sleep 3
	fi
	cmd="$bin connect $extra 127.0.0.1:$port"
	;;
*)
	echo "tui-capture: MODE must be demo or connect" >&2
	exit 2
	;;
esac

# a UTF-8 locale so braille and box characters survive the capture
tmux new-session -d -s "$session" -x "$cols" -y "$rows" "env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color $cmd"
sleep "$wait"
for k in $keys; do
	tmux send-keys -t "$session" "$k"
	sleep 0.5
done
[ -n "$keys" ] && sleep 1.5
tmux capture-pane -p -t "$session" >"$out"
echo "screen (${cols}x${rows}) saved to $out"

if [ "$cpu_seconds" -gt 0 ]; then
	pid=$(tmux list-panes -t "$session" -F '#{pane_pid}')
	# the pane runs env, which execs socktop: same pid
	ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
	hz=$(getconf CLK_TCK)
	t0=$(ticks "$pid")
	s0=$(date +%s.%N)
	sleep "$cpu_seconds"
	t1=$(ticks "$pid")
	s1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" -v s="$s0" -v e="$s1" -v hz="$hz" -v m="$mode" \
		'BEGIN { printf "%s CPU over %.1f s: %d ticks = %.2f%% of one core\n", (m == "demo" ? "dashboard+agent" : "dashboard"), e - s, b - a, 100 * (b - a) / hz / (e - s) }'
fi
tmux send-keys -t "$session" q
sleep 0.5
