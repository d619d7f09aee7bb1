#!/usr/bin/env bash
# Cross-compiles socktop into static, CGO-free binaries for the machines it
# watches and the laptops that watch them. Needs only Go.
#
#   scripts/build.sh              # → dist/socktop-<os>-<arch>, dist/SHA256SUMS
#   DIST=/tmp/out scripts/build.sh
#   TARGETS="linux/amd64 linux/armv6" scripts/build.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DIST=${DIST:-dist}
TARGETS=${TARGETS:-"linux/amd64 linux/arm64 linux/armv6 linux/armv7 linux/riscv64 darwin/arm64"}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
COMMIT=${COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
DATE=${DATE:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
LDFLAGS="-s -w -X main.version=$VERSION -X main.commit=$COMMIT -X main.date=$DATE"

mkdir -p "$DIST"
built=()
for t in $TARGETS; do
	os=${t%/*}
	arch=${t#*/}
	goarch=$arch
	goarm=
	case $arch in
	armv6) goarch=arm goarm=6 ;;
	armv7) goarch=arm goarm=7 ;;
	esac
	out="socktop-$os-$arch"
	CGO_ENABLED=0 GOOS=$os GOARCH=$goarch GOARM=$goarm \
		go build -trimpath -ldflags "$LDFLAGS" -o "$DIST/$out" .
	built+=("$out")
done

(cd "$DIST" && sha256sum "${built[@]}" >SHA256SUMS)
for f in "${built[@]}"; do
	awk -v f="$f" -v s="$(stat -c %s "$DIST/$f")" 'BEGIN { printf "%-28s %6.2f MiB\n", f, s / 1048576 }'
done
echo "checksums: $DIST/SHA256SUMS"
