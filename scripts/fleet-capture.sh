#!/usr/bin/env bash
# fleet-capture.sh — a text capture of the fleet view watching a few agents.
#
# Builds socktop, starts AGENTS (default 4) `socktop agent --listen
# 127.0.0.1 -p 0` processes, puts them in a throwaway profiles.toml as
# pi-1…pi-N in group "rack", runs `socktop connect @rack` in a 160×48 tmux
# session, and writes the screen to OUT (default fleet-capture.txt): the
# tiles, then — after the last agent is stopped and `t` pressed — the
# table. Everything it started is stopped on exit.
#
# ALERTS=1 adds alert rules to the profiles (a `down` rule for every host,
# `process:nginx` for pi-2) and captures instead: the tiles with pi-2's
# alert, the tiles once the last agent is stopped and its `down` rule
# fired, and the `!` list.
#
#   scripts/fleet-capture.sh [OUT]
#   ALERTS=1 scripts/fleet-capture.sh fleet-alerts.txt
#
# When this build's `socktop connect` is not wired yet, the same fleet
# view runs from the tui test binary (TestFleetToolClient).
set -euo pipefail
AGENTS=${AGENTS:-4}
WAIT=${WAIT:-8}
cd "$(dirname "$0")/.."
OUT=${1:-fleet-capture.txt}
command -v tmux >/dev/null || { echo "fleet-capture: tmux is needed" >&2; exit 1; }
tmp=$(mktemp -d)
sess="fleetcap$$"
pids=()
cleanup() {
	tmux kill-session -t "$sess" 2>/dev/null || true
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
go build -o "$tmp/socktop" .

mkdir -p "$tmp/config/socktop"
profiles="$tmp/config/socktop/profiles.toml"
named=()
for i in $(seq "$AGENTS"); do
	"$tmp/socktop" agent --listen 127.0.0.1 -p 0 >"$tmp/agent$i.log" 2>&1 &
	pids+=($!)
done
for i in $(seq "$AGENTS"); do
	url=""
	for _ in $(seq 50); do
		url=$(grep -o 'url=ws://[^ ]*' "$tmp/agent$i.log" | head -1 | cut -d= -f2 || true)
		[ -n "$url" ] && break
		sleep 0.1
	done
	[ -n "$url" ] || { echo "fleet-capture: agent $i did not start" >&2; cat "$tmp/agent$i.log" >&2; exit 1; }
	printf '[profiles.pi-%d]\nurl = "%s"\ngroup = "rack"\n\n' "$i" "$url" >>"$profiles"
	named+=("pi-$i=$url")
done
if [ "${ALERTS:-}" = 1 ]; then
	cat >>"$profiles" <<'TOML'
[[alerts]]
name = "down"
when = "down"
for = "2s"

[[profiles.pi-2.alerts]]
name = "nginx"
when = "process:nginx"
TOML
fi
chmod 600 "$profiles"

if "$tmp/socktop" connect -h 2>&1 | grep -q 'usage: socktop connect'; then
	client="XDG_CONFIG_HOME='$tmp/config' exec '$tmp/socktop' connect @rack"
else
	go test -c -o "$tmp/tui.test" ./tui
	client="SOCKTOP_FLEET_URLS='${named[*]}' exec '$tmp/tui.test' -test.run '^TestFleetToolClient\$' -test.timeout 0"
fi
tmux new-session -d -s "$sess" -x 160 -y 48 "$client"
sleep "$WAIT"
if [ "${ALERTS:-}" = 1 ]; then
	{
		tmux capture-pane -p -t "$sess"
		kill "${pids[$((AGENTS - 1))]}"
		sleep 5 # the `down` rule holds for 2 s
		echo
		tmux capture-pane -p -t "$sess"
		tmux send-keys -t "$sess" '!'
		sleep 1
		echo
		tmux capture-pane -p -t "$sess"
	} | sed -e 's/[[:space:]]*$//' >"$OUT"
	echo "fleet-capture: wrote $OUT"
	exit 0
fi
{
	tmux capture-pane -p -t "$sess"
	# the last agent goes away: its row turns stale and counts down
	kill "${pids[$((AGENTS - 1))]}"
	tmux send-keys -t "$sess" t
	sleep 3
	echo
	tmux capture-pane -p -t "$sess"
} | sed -e 's/[[:space:]]*$//' >"$OUT"
echo "fleet-capture: wrote $OUT"
