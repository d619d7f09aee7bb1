#!/bin/sh
# term-bytes.sh — bytes written to the terminal per second at 120×40 by
# `socktop demo`, btop and htop, each at its default cadence, measured the
# same way: the program runs under a pseudo-terminal of that size
# (scripts/termbytes), a warm-up lets it paint its first screen, then
# everything it writes for MEASURE seconds is counted.
#
#   scripts/term-bytes.sh                     120×40, 5 s warm-up, 30 s each
#   COLS=200 ROWS=60 MEASURE=60 scripts/term-bytes.sh
#   PROGRAMS="socktop" scripts/term-bytes.sh  only socktop
#
# Everything runs inside `unshare -n` (a network namespace with only
# loopback, brought up), so nothing can leave the machine: socktop demo's
# agent listens on 127.0.0.1 there. Needs root (or user namespaces) for
# unshare; btop and htop are skipped when not installed
# (apt-get install btop htop). SOCKTOP_BIN names a built binary; otherwise
# the script builds one.
set -eu

cols=${COLS:-120}
rows=${ROWS:-40}
warmup=${WARMUP:-5s}
measure=${MEASURE:-30}
programs=${PROGRAMS:-socktop btop htop}

cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
bin=${SOCKTOP_BIN:-}
if [ -z "$bin" ]; then
	bin=$tmp/socktop
	CGO_ENABLED=0 go build -o "$bin" .
fi
go build -o "$tmp/termbytes" ./scripts/termbytes

# btop keeps its settings in $HOME/.config/btop: a fresh HOME gives it its
# defaults (2 s updates), as for a new user.
mkdir -p "$tmp/home"
cat >"$tmp/run.sh" <<EOF
set -eu
ip link set lo up
export HOME="$tmp/home" LANG=C.UTF-8 LC_ALL=C.UTF-8
for p in $programs; do
	case "\$p" in
	socktop) cmd="$bin demo" ;;
	*) command -v "\$p" >/dev/null || { echo "\$p	not installed, skipped"; continue; }; cmd="\$p" ;;
	esac
	"$tmp/termbytes" -cols $cols -rows $rows -warmup $warmup -measure ${measure}s -- \$cmd
done
EOF
echo "bytes written to a ${cols}×${rows} terminal, ${measure} s after a ${warmup} warm-up:"
unshare -n sh "$tmp/run.sh"
