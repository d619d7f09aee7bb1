#!/usr/bin/env bash
# peer-bench.sh: the socktop agent beside Glances, node_exporter,
# process-exporter and netdata on this machine, as ratios to socktop:
# CPU per full sample, CPU at each tool's own cadence, idle CPU, RSS and PSS,
# and the Floor (readdir of /proc plus one read of every /proc/<pid>/stat).
# A manual benchmark: CI (.ci/run) does not run it. Needs root.
#
#   sudo scripts/peer-bench.sh                        # ~10 minutes
#   sudo REPS=1 DURATION=10s PROCS=0 scripts/peer-bench.sh
#   sudo PEERS="socktop node_exporter" scripts/peer-bench.sh
#   sudo PEERS=node_exporter PHASES=scrape5,scrape15 scripts/peer-bench.sh   # the scrapes alone
#
# What it does, in order:
# 1. Installs from Debian, with apt-get and only what is missing, the peers'
#    packages (glances python3-bottle prometheus-node-exporter
#    prometheus-process-exporter netdata). A policy-rc.d that refuses every
#    start is in place during the install, so no service starts; each service
#    of a package this script installed is then disabled (systemctl, and
#    update-rc.d for sysvinit), and any process of those packages that
#    started anyway is killed by pid. Packages that were already installed
#    are left as they are.
# 2. Builds socktop and scripts/peerbench from this tree (`go build`).
# 3. Enters a new network namespace (`unshare -n`) that has only the loopback
#    interface, brings lo up and checks the isolation: `ip link` lists only
#    lo, the routing tables hold only loopback routes, and a connection to
#    the cloud metadata address 169.254.169.254 fails with "Network is
#    unreachable". Every peer, the socktop agent, the 1000 idle `sleep`
#    processes (PROCS) and the client, scripts/peerbench, run inside it, on
#    127.0.0.1 ports: no packet of the benchmark can leave the machine.
#    The phone-home probes are off as well: Glances runs with
#    --disable-plugin cloud and --disable-check-update, its config with
#    check_update=false, public_ip_disabled=True, port_default_gateway=False;
#    netdata runs in the foreground (-D) with DO_NOT_TRACK=1 and a
#    netdata.conf in a temp dir (registry off, its own dirs, a plugins dir
#    whose system-info.sh skips the cloud-metadata probe and whose
#    anonymous-statistics.sh does nothing); this Debian build has no Netdata
#    Cloud (--disable-cloud), and its cloud.conf says enabled = no as well.
# 4. scripts/peerbench measures, REPS times, each phase in a rotated order:
#    the Floor; SAMPLES fresh full samples per tool; a DURATION window at
#    each dashboard's cadence; windows of Prometheus-style scrapes every 5 s
#    and every 15 s; an idle window with no client; RSS and PSS. It prints
#    the table with medians, the date, kernel, CPU, cores, process count,
#    load average and how busy the machine was.
# 5. Stops everything: a trap kills every process of the namespace (found by
#    /proc/<pid>/ns/net, by pid), restores policy-rc.d and removes the temp
#    dir. Running it again starts from scratch.
#
# Environment:
#   REPS=3          repetitions (medians over them)
#   DURATION=30s    each cadence and idle window (the 15 s scrape window is a whole multiple of 15 s)
#   SAMPLES=6       full samples per tool and repetition
#   PROCS=1000      idle `sleep` processes to add, so every tool lists ~1,000 more
#   PEERS="socktop glances node_exporter process-exporter netdata"   (socktop is always measured)
#   WARMUP=10s      wait after every tool answers
#   PHASES=samples,dashboard,scrape5,scrape15,idle   the phases to run
set -euo pipefail

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

all_peers="glances node_exporter process-exporter netdata"
REPS=${REPS:-3}
DURATION=${DURATION:-30s}
SAMPLES=${SAMPLES:-6}
PROCS=${PROCS:-1000}
PEERS=${PEERS:-socktop $all_peers}
WARMUP=${WARMUP:-10s}
PHASES=${PHASES:-samples,dashboard,scrape5,scrape15,idle}

die() {
	echo "peer-bench: $*" >&2
	exit 1
}

bad_knob() {
	echo "peer-bench: $*" >&2
	exit 2
}

check_knobs() {
	if ! [[ $REPS =~ ^[0-9]+$ ]] || ((10#$REPS < 1 || 10#$REPS > 50)); then bad_knob "REPS=$REPS: want 1..50"; fi
	if ! [[ $SAMPLES =~ ^[0-9]+$ ]] || ((10#$SAMPLES < 1 || 10#$SAMPLES > 1000)); then bad_knob "SAMPLES=$SAMPLES: want 1..1000"; fi
	if ! [[ $PROCS =~ ^[0-9]+$ ]] || ((10#$PROCS > 20000)); then bad_knob "PROCS=$PROCS: want 0..20000"; fi
	REPS=$((10#$REPS)) SAMPLES=$((10#$SAMPLES)) PROCS=$((10#$PROCS)) # 08 is not octal
	[[ $DURATION =~ ^[0-9]+(s|m)$ ]] || bad_knob "DURATION=$DURATION: want e.g. 30s or 2m"
	[[ $WARMUP =~ ^[0-9]+(s|m)$ ]] || bad_knob "WARMUP=$WARMUP: want e.g. 10s"
	[[ $PHASES =~ ^(samples|dashboard|scrape5|scrape15|idle)(,(samples|dashboard|scrape5|scrape15|idle))*$ ]] ||
		bad_knob "PHASES=$PHASES: want a comma-separated list of samples, dashboard, scrape5, scrape15, idle"
	local p
	for p in $PEERS; do
		case " socktop $all_peers " in
		*" $p "*) ;;
		*) bad_knob "PEERS: unknown peer '$p' (known: socktop $all_peers)" ;;
		esac
	done
}

wants() { case " $PEERS " in *" $1 "*) return 0 ;; esac; return 1; }

# --- 1. packages ------------------------------------------------------------

# Debian packages and services of each peer.
packages_of() {
	case $1 in
	glances) echo glances python3-bottle ;;
	node_exporter) echo prometheus-node-exporter ;;
	process-exporter) echo prometheus-process-exporter ;;
	netdata) echo netdata ;;
	esac
}
services_of() {
	case $1 in
	glances | netdata) echo "$1" ;;
	node_exporter) echo prometheus-node-exporter ;;
	process-exporter) echo prometheus-process-exporter ;;
	esac
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# pids_of_peers prints the pids running one of the peers' programs: their
# binaries, or python running /usr/bin/glances.
pids_of_peers() {
	local path exe pid
	find /proc/[0-9]*/exe -maxdepth 0 -printf '%p %l\n' 2>/dev/null | while read -r path exe; do
		pid=${path#/proc/}
		pid=${pid%/exe}
		case $exe in
		/usr/bin/prometheus-node-exporter | /usr/bin/prometheus-process-exporter | /usr/sbin/netdata | /usr/lib/netdata/plugins.d/*)
			echo "$pid"
			;;
		/usr/bin/python3*)
			tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q '/usr/bin/glances' && echo "$pid"
			;;
		esac
	done
	return 0
}

policy=/usr/sbin/policy-rc.d
policy_saved=""
restore_policy() {
	if [ -n "$policy_saved" ]; then
		mv -f "$policy_saved" "$policy"
		policy_saved=""
	elif [ -e "$tmp/policy-ours" ]; then
		rm -f "$policy" "$tmp/policy-ours"
	fi
}

install_peers() {
	local p pkg missing=() new_peers=()
	for p in $PEERS; do
		[ "$p" = socktop ] && continue
		local need=0
		for pkg in $(packages_of "$p"); do
			installed "$pkg" || { missing+=("$pkg"); need=1; }
		done
		((need)) && new_peers+=("$p")
	done
	((${#missing[@]})) || return 0
	echo "# apt-get install ${missing[*]}" >&2
	local before
	before=$(pids_of_peers | sort)
	if [ -e "$policy" ]; then
		policy_saved="$tmp/policy-rc.d.saved"
		cp -p "$policy" "$policy_saved"
	else
		: >"$tmp/policy-ours"
	fi
	printf '#!/bin/sh\n# peer-bench.sh: no service starts during its install\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$tmp/apt.log" 2>&1 ||
		{ cat "$tmp/apt.log" >&2; die "apt-get install ${missing[*]} failed (log above)"; }
	restore_policy
	local svc
	for p in "${new_peers[@]}"; do
		for svc in $(services_of "$p"); do
			if [ -d /run/systemd/system ]; then
				systemctl disable --now "$svc" >/dev/null 2>&1 || true
			elif command -v systemctl >/dev/null; then
				systemctl disable "$svc" >/dev/null 2>&1 || true # works offline: removes the links
			fi
			if [ -e "/etc/init.d/$svc" ] && command -v update-rc.d >/dev/null; then
				update-rc.d "$svc" disable >/dev/null 2>&1 || true
			fi
		done
	done
	local pid
	for pid in $(comm -13 <(echo "$before") <(pids_of_peers | sort)); do
		echo "# stopping pid $pid ($(readlink "/proc/$pid/exe" 2>/dev/null)), started by the install" >&2
		kill "$pid" 2>/dev/null || true
	done
}

# --- 3. the namespace ------------------------------------------------------------

# netns_inode prints the inode of the network namespace of pid $1.
netns_inode() { stat -L -c %i "/proc/$1/ns/net"; }

# kill_netns kills, by pid, every process in the network namespace whose
# inode is $1, except this shell: TERM, then KILL what is left after 6 s.
kill_netns() {
	local ns=$1 sig pids
	[ -n "$ns" ] || return 0
	for sig in TERM TERM TERM KILL; do
		pids=$({ stat -L -c '%i %n' /proc/[0-9]*/ns/net 2>/dev/null || true; } |
			awk -v ns="$ns" -v self="$$" '$1 == ns { split($2, p, "/"); if (p[3] != self) print p[3] }')
		[ -n "$pids" ] || return 0
		# shellcheck disable=SC2086 # one pid per word
		kill -"$sig" $pids 2>/dev/null || true
		sleep 2
	done
}

check_isolation() {
	local links routes
	links=$(ip -o link show | awk -F': ' '{print $2}')
	[ "$links" = lo ] || die "the namespace has interfaces besides lo: $links"
	routes=$(ip route show table all | grep -v -E '^(local|broadcast) [^ ]+ dev lo ' || true)
	[ -z "$routes" ] || die "the namespace has non-loopback routes: $routes"
	if timeout 3 bash -c 'exec 3<>/dev/tcp/169.254.169.254/80' 2>"$tmp/probe.err"; then
		die "a connection to 169.254.169.254 succeeded inside the namespace"
	fi
	grep -q 'Network is unreachable' "$tmp/probe.err" ||
		die "a connection to 169.254.169.254 did not fail with 'Network is unreachable': $(cat "$tmp/probe.err")"
	echo "# network namespace $(readlink /proc/$$/ns/net): only lo, no route off the machine (169.254.169.254: Network is unreachable)" >&2
}

write_configs() {
	# Glances: Debian's config (or defaults) with every network probe off.
	mkdir -p "$tmp/glances"
	if [ -r /etc/glances/glances.conf ]; then
		sed -e 's/^check_update=.*/check_update=false/' \
			-e 's/^public_ip_disabled=.*/public_ip_disabled=True/' \
			-e 's/^port_default_gateway=.*/port_default_gateway=False/' \
			/etc/glances/glances.conf >"$tmp/glances/glances.conf"
	else
		: >"$tmp/glances/glances.conf"
	fi
	grep -q '^\[global\]' "$tmp/glances/glances.conf" || printf '[global]\ncheck_update=false\n' >>"$tmp/glances/glances.conf"
	grep -q '^\[ip\]' "$tmp/glances/glances.conf" || printf '[ip]\npublic_ip_disabled=True\n' >>"$tmp/glances/glances.conf"
	grep -q '^\[ports\]' "$tmp/glances/glances.conf" || printf '[ports]\nport_default_gateway=False\n' >>"$tmp/glances/glances.conf"

	# process-exporter: every process, grouped by name (its README's example).
	cat >"$tmp/process-exporter.yml" <<-'EOF'
		process_names:
		  - name: "{{.Comm}}"
		    cmdline:
		    - '.+'
	EOF

	# netdata: everything in the temp dir, nothing that phones home.
	local nd=$tmp/netdata f
	mkdir -p "$nd/etc" "$nd/log" "$nd/cache" "$nd/lib/cloud.d" "$nd/plugins.d"
	cat >"$nd/etc/netdata.conf" <<-EOF
		[global]
			run as user = netdata
		[directories]
			config = $nd/etc
			log = $nd/log
			cache = $nd/cache
			lib = $nd/lib
			lock = $nd/lib/lock
			home = $nd/lib
			plugins = "$nd/plugins.d"
		[web]
			bind to = 127.0.0.1:19999
		[registry]
			enabled = no
	EOF
	printf '[global]\n\tenabled = no\n' >"$nd/lib/cloud.d/cloud.conf"
	: >"$nd/etc/.opt-out-from-anonymous-statistics"
	for f in /usr/lib/netdata/plugins.d/*; do
		[ -e "$f" ] && ln -s "$f" "$nd/plugins.d/"
	done
	if [ -e /usr/lib/netdata/plugins.d/system-info.sh ]; then
		rm -f "$nd/plugins.d/system-info.sh"
		# shellcheck disable=SC2016 # the pattern matches a literal ${VIRTUALIZATION}
		sed 's/^if \[ "\${VIRTUALIZATION}" != "none" \] && command -v curl .*; then$/if false; then # peer-bench: no cloud-metadata probe/' \
			/usr/lib/netdata/plugins.d/system-info.sh >"$nd/plugins.d/system-info.sh"
		chmod 755 "$nd/plugins.d/system-info.sh"
		grep -q 'peer-bench: no cloud-metadata probe' "$nd/plugins.d/system-info.sh" ||
			die "netdata's system-info.sh changed: cannot turn off its cloud-metadata probe (the namespace would still block it)"
	fi
	rm -f "$nd/plugins.d/anonymous-statistics.sh"
	printf '#!/bin/sh\nexit 0\n' >"$nd/plugins.d/anonymous-statistics.sh"
	chmod 755 "$nd/plugins.d/anonymous-statistics.sh"
	if getent passwd netdata >/dev/null; then
		chown -R netdata: "$nd/log" "$nd/cache" "$nd/lib"
	fi
}

# start NAME CMD…: starts a peer in the background, logging to $tmp/NAME.log.
start() {
	local name=$1
	shift
	"$@" >"$tmp/$name.log" 2>&1 &
	echo "$name $!" >>"$tmp/pids"
}

# inside runs in the namespace: lo up, isolation check, peers, the bench.
inside() {
	inner_ns=$(netns_inode $$)
	echo "$inner_ns" >"$tmp/netns"
	trap 'kill_netns "$inner_ns"' EXIT
	trap 'exit 130' INT TERM
	ip link set lo up
	check_isolation
	local i
	for ((i = 0; i < PROCS; i++)); do sleep 7200 & done
	: >"$tmp/pids"
	start socktop "$tmp/socktop" agent --listen 127.0.0.1 -p 3000
	start socktop-polled "$tmp/socktop" agent --listen 127.0.0.1 -p 3001
	local args=(-peer "socktop=PID,http://127.0.0.1:3000" -peer "socktop-polled=PID,http://127.0.0.1:3001") versions
	versions="$("$tmp/socktop" version 2>&1 | head -1) ($(git rev-parse --short HEAD 2>/dev/null || echo "?"))"
	if wants glances; then
		start glances env XDG_CACHE_HOME="$tmp/glances" glances -C "$tmp/glances/glances.conf" -w --disable-webui \
			--disable-plugin cloud --disable-check-update -B 127.0.0.1 -p 61208
		args+=(-peer "glances=PID,http://127.0.0.1:61208")
		versions+=", $(XDG_CACHE_HOME="$tmp/glances" glances -V 2>&1 | head -1)"
	fi
	if wants node_exporter; then
		start node_exporter prometheus-node-exporter --web.listen-address=127.0.0.1:9100
		args+=(-peer "node_exporter=PID,http://127.0.0.1:9100")
		versions+=", $(prometheus-node-exporter --version 2>&1 | head -1)"
	fi
	if wants process-exporter; then
		start process-exporter prometheus-process-exporter -web.listen-address 127.0.0.1:9256 -config.path "$tmp/process-exporter.yml"
		args+=(-peer "process-exporter=PID,http://127.0.0.1:9256")
		versions+=", process-exporter $(dpkg-query -W -f='${Version}' prometheus-process-exporter 2>/dev/null)"
	fi
	if wants netdata; then
		start netdata env DO_NOT_TRACK=1 netdata -D -c "$tmp/netdata/etc/netdata.conf"
		args+=(-peer "netdata=PID,http://127.0.0.1:19999")
		versions+=", $(netdata -v 2>&1 | head -1)"
	fi
	# Put each peer's pid in its -peer flag.
	local n=${#args[@]} name pid
	for ((i = 1; i < n; i += 2)); do
		name=${args[i]%%=*}
		pid=$(awk -v n="$name" '$1 == n { print $2 }' "$tmp/pids")
		args[i]=${args[i]/=PID,/=$pid,}
	done
	if ! "$tmp/peerbench" "${args[@]}" -reps "$REPS" -duration "$DURATION" -samples "$SAMPLES" -warmup "$WARMUP" -phases "$PHASES" \
		-versions "$versions" >"$tmp/table"; then
		while read -r name _; do
			echo "--- $name.log (last lines)" >&2
			tail -5 "$tmp/$name.log" >&2
		done <"$tmp/pids"
		exit 1
	fi
	cat "$tmp/table"
}

# --- main ---------------------------------------------------------------------

case ${1:-} in
-h | --help)
	usage
	exit 0
	;;
__inside)
	tmp=$2
	check_knobs
	inside
	exit 0
	;;
"") ;;
*)
	usage >&2
	exit 2
	;;
esac

check_knobs
[ "$(id -u)" = 0 ] || die "needs root (apt-get, a network namespace, other users' /proc/<pid>/smaps_rollup): run it with sudo"
for c in unshare ip go dpkg-query; do
	command -v "$c" >/dev/null || die "needs $c on PATH"
done
cd "$(dirname "$0")/.."
tmp=$(mktemp -d /tmp/peer-bench.XXXXXX)
chmod 755 "$tmp" # netdata drops to its own user and reads its config here
cleanup() {
	kill_netns "$(cat "$tmp/netns" 2>/dev/null)"
	restore_policy
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

install_peers
for p in $PEERS; do
	case $p in
	glances) command -v glances >/dev/null || die "glances is missing after the install" ;;
	node_exporter) command -v prometheus-node-exporter >/dev/null || die "prometheus-node-exporter is missing after the install" ;;
	process-exporter) command -v prometheus-process-exporter >/dev/null || die "prometheus-process-exporter is missing after the install" ;;
	netdata) command -v netdata >/dev/null || die "netdata is missing after the install" ;;
	esac
done
echo "# go build socktop and scripts/peerbench" >&2
go build -o "$tmp/socktop" .
go build -o "$tmp/peerbench" ./scripts/peerbench
write_configs
export REPS DURATION SAMPLES PROCS PEERS WARMUP PHASES
unshare -n -- bash "$0" __inside "$tmp"
