#!/usr/bin/env bash
# Regenerate the Go code for wire/socktop.proto with protoc (Debian's
# protobuf-compiler) and pinned plugin versions.
#
#   scripts/gen-proto.sh           regenerate wire/*.pb.go in place
#   scripts/gen-proto.sh --check   regenerate into a temp dir and diff against
#                                  the committed files; exit 1 on any difference
#
# The plugin versions follow go.mod (google.golang.org/protobuf and
# github.com/planetscale/vtprotobuf); bump them together, deliberately.
set -euo pipefail
cd "$(dirname "$0")/.."

PROTOC_GEN_GO_VERSION=v1.36.12
PROTOC_GEN_GO_VTPROTO_VERSION=v0.6.0
PROTOC_EXPECTED=3.21.12 # Debian bookworm's protobuf-compiler

# Pools for the messages that are large or decoded over and over.
POOLED=(ProcessList Process Processes ProcessInfo Metrics Disks Disk Connections Connection Response)

check=0
case "${1:-}" in
--check) check=1 ;;
"") ;;
-h | --help)
	sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "usage: $0 [--check]" >&2
	exit 2
	;;
esac

command -v protoc >/dev/null || {
	echo "protoc not found: apt-get install -y protobuf-compiler" >&2
	exit 1
}
have=$(protoc --version | awk '{print $2}')
if [ "$have" != "$PROTOC_EXPECTED" ]; then
	echo "warning: protoc $have, the committed code was made with $PROTOC_EXPECTED" >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Install the pinned plugins into a private GOBIN (the build cache makes
# repeated runs cheap) so whatever else is on PATH does not matter.
export GOBIN="$work/bin"
GOFLAGS=-mod=mod go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
GOFLAGS=-mod=mod go install "github.com/planetscale/vtprotobuf/cmd/protoc-gen-go-vtproto@$PROTOC_GEN_GO_VTPROTO_VERSION"

vtopt="paths=source_relative,features=marshal+unmarshal+size+pool"
for m in "${POOLED[@]}"; do
	vtopt+=",pool=github.com/socktop/socktop/wire.$m"
done

out="$work/out"
mkdir -p "$out"
PATH="$GOBIN:$PATH" protoc -I wire \
	--plugin=protoc-gen-go="$GOBIN/protoc-gen-go" \
	--plugin=protoc-gen-go-vtproto="$GOBIN/protoc-gen-go-vtproto" \
	--go_out="$out" --go_opt=paths=source_relative \
	--go-vtproto_out="$out" --go-vtproto_opt="$vtopt" \
	wire/socktop.proto

if ((check)); then
	# The protoc version line in the header is informational; ignore it so a
	# newer protoc on another distribution does not fail the check by itself.
	status=0
	for f in "$out"/*.go; do
		name=$(basename "$f")
		if [ ! -f "wire/$name" ]; then
			echo "gen-proto: wire/$name is missing; run scripts/gen-proto.sh" >&2
			status=1
			continue
		fi
		if ! diff -u -I '^//[[:space:]]*protoc[[:space:]]' "wire/$name" "$f"; then
			echo "gen-proto: wire/$name differs from a regeneration; run scripts/gen-proto.sh" >&2
			status=1
		fi
	done
	exit $status
fi

cp "$out"/*.go wire/
echo "generated: $(cd "$out" && ls *.go | sed 's|^|wire/|' | tr '\n' ' ')"
