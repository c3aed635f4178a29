#!/usr/bin/env bash
# s3-peers.sh: restic backup time and rclone copy throughput through walrus-go's S3 gateway
# (on a devnet) and through MinIO, on this machine, with the same data.
#
# Usage (from the repository root): bench/s3-peers.sh, or make bench-s3-peers.
#
# Environment (all optional):
#   ROUNDS         rounds per system, interleaved walrus, minio, walrus, ... (default 3)
#   SMALL_FILES    number of small files, 1 to 64 KiB each (default 300)
#   LARGE_MIB      sizes of the large files in MiB, space-separated (default "16 32 48")
#   MINIO          path of a minio binary; otherwise `minio` on PATH, otherwise it is
#                  installed with `go install github.com/minio/minio@latest` into the
#                  cache directory of bench/lib.sh's bench_cache (minutes, the first time)
#   SYSTEMS        systems to measure (default "walrus minio")
#   PORT_BASE      first of the ports used on 127.0.0.1 (default 39100; it uses PORT_BASE
#                  to PORT_BASE+120)
#   KEEP=1         keep the temporary directory (its path is printed)
#
# Prints one line per measurement and a table of medians (Markdown) at the end.
# Needs go, restic, rclone, curl. The walrus binary is built from this checkout.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
SMALL_FILES=${SMALL_FILES:-300}
LARGE_MIB=${LARGE_MIB:-"16 32 48"}
PORT_BASE=${PORT_BASE:-39100}
SYSTEMS=${SYSTEMS:-"walrus minio"}
has() { [[ " $SYSTEMS " == *" $1 "* ]]; }

for tool in go restic rclone curl; do
	command -v "$tool" >/dev/null || { echo "s3-peers: $tool is not installed" >&2; exit 1; }
done

# The clients see none of the caller's AWS or rclone settings (a CA bundle, for one,
# makes rclone refuse plain-HTTP endpoints).
unset AWS_CA_BUNDLE AWS_PROFILE AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_ENDPOINT_URL
export RCLONE_CONFIG=/dev/null

REPO=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/s3-peers.XXXXXX")
PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

now() { date +%s.%N; }
load1() { cut -d' ' -f1 /proc/loadavg; }
LOADS=()

# --- binaries -------------------------------------------------------------------------
echo "building walrus"
(cd "$REPO" && go build -o "$TMP/bin/walrus" ./cmd/walrus)
MINIO_VERSION="not measured"
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"
if has minio; then install_minio "$(bench_cache)"; fi

# --- data -----------------------------------------------------------------------------
# Random (incompressible) content, generated once; both systems get the same tree.
DATA="$TMP/data"
mkdir -p "$DATA"
echo "generating $SMALL_FILES small files and large files of $LARGE_MIB MiB"
RANDOM=1
for i in $(seq 1 "$SMALL_FILES"); do
	d="$DATA/dir$((i % 10))/sub$((i % 3))"
	mkdir -p "$d"
	head -c $(((RANDOM % 64 + 1) * 1024)) /dev/urandom >"$d/file$i.bin"
done
mkdir -p "$DATA/large"
for m in $LARGE_MIB; do head -c $((m << 20)) /dev/urandom >"$DATA/large/large-$m.bin"; done
FILES=$(find "$DATA" -type f | wc -l)
BYTES=$(find "$DATA" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
echo "data: $FILES files, $BYTES bytes"

# --- walrus devnet --------------------------------------------------------------------
P=$PORT_BASE
if has walrus; then
	WALRUS_S3=127.0.0.1:$((P + 0))
	echo "starting walrus devnet"
	"$TMP/bin/walrus" devnet --dir "$TMP/devnet" --s3 "$WALRUS_S3" --http "127.0.0.1:$((P + 1))" \
		--chain-rpc "127.0.0.1:$((P + 2))" --chain-p2p "127.0.0.1:$((P + 3))" --node-port $((P + 10)) \
		>"$TMP/devnet.out" 2>"$TMP/devnet.err" &
	DEVNET_PID=$!
	PIDS+=("$DEVNET_PID")
	for _ in $(seq 1 600); do
		grep -q '^  s3:' "$TMP/devnet.out" 2>/dev/null && break
		kill -0 "$DEVNET_PID" 2>/dev/null || { cat "$TMP/devnet.err" >&2; exit 1; }
		sleep 1
	done
	S3LINE=$(grep '^  s3:' "$TMP/devnet.out") || { echo "the devnet printed no s3 line" >&2; cat "$TMP/devnet.err" >&2; exit 1; }
	WALRUS_KEY=$(sed -E 's/.*access key ([^,]+),.*/\1/' <<<"$S3LINE")
	WALRUS_SECRET=$(sed -E 's/.*secret key ([^,]+),.*/\1/' <<<"$S3LINE")
fi

# --- minio ----------------------------------------------------------------------------
MINIO_ADDR=127.0.0.1:$((P + 100))
MINIO_KEY=benchminio
MINIO_SECRET=benchminio-secret-key
if has minio; then
	echo "starting MinIO ($MINIO_VERSION), one drive"
	mkdir -p "$TMP/minio"
	MINIO_ROOT_USER=$MINIO_KEY MINIO_ROOT_PASSWORD=$MINIO_SECRET MINIO_BROWSER=off \
		"$MINIO" server --quiet --address "$MINIO_ADDR" --console-address "127.0.0.1:$((P + 101))" "$TMP/minio" \
		>"$TMP/minio.log" 2>&1 &
	PIDS+=("$!")
	for _ in $(seq 1 120); do
		curl -fsS "http://$MINIO_ADDR/minio/health/live" >/dev/null 2>&1 && break
		sleep 1
	done
	curl -fsS "http://$MINIO_ADDR/minio/health/live" >/dev/null || { cat "$TMP/minio.log" >&2; exit 1; }
fi

# --- measurements ---------------------------------------------------------------------
RESULTS="$TMP/results"
: >"$RESULTS"

# setsys NAME points the clients at system NAME.
setsys() {
	if [ "$1" = walrus ]; then
		URL=http://$WALRUS_S3 KEY=$WALRUS_KEY SECRET=$WALRUS_SECRET
	else
		URL=http://$MINIO_ADDR KEY=$MINIO_KEY SECRET=$MINIO_SECRET
	fi
	export AWS_ACCESS_KEY_ID=$KEY AWS_SECRET_ACCESS_KEY=$SECRET AWS_DEFAULT_REGION=us-east-1
	export RCLONE_CONFIG_PEER_TYPE=s3 RCLONE_CONFIG_PEER_PROVIDER=Other RCLONE_CONFIG_PEER_ENDPOINT=$URL
	export RCLONE_CONFIG_PEER_ACCESS_KEY_ID=$KEY RCLONE_CONFIG_PEER_SECRET_ACCESS_KEY=$SECRET
	export RCLONE_CONFIG_PEER_REGION=us-east-1
}

# timed NAME WHAT CMD...: runs CMD, records its seconds and the load average around it.
timed() {
	local sys=$1 what=$2 t0 t1 l0
	shift 2
	l0=$(load1)
	t0=$(now)
	"$@" >>"$TMP/clients.log" 2>&1 || { echo "failed: $*" >&2; tail -n 30 "$TMP/clients.log" >&2; exit 1; }
	t1=$(now)
	LOADS+=("$l0" "$(load1)")
	local secs
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
	echo "$sys $what $secs" >>"$RESULTS"
	printf '%-7s %-12s %8.2f s  %7.1f MB/s  (load %s)\n' "$sys" "$what" "$secs" \
		"$(awk -v n="$BYTES" -v s="$secs" 'BEGIN {print n / s / 1e6}')" "$(load1)"
}

export RESTIC_PASSWORD=bench
for r in $(seq 1 "$ROUNDS"); do
	for sys in $SYSTEMS; do
		setsys "$sys"
		export RESTIC_REPOSITORY=s3:$URL/restic-$r RESTIC_CACHE_DIR=$TMP/cache-$sys-$r
		restic init >>"$TMP/clients.log" 2>&1
		timed "$sys" restic-backup restic backup --quiet "$DATA"
		timed "$sys" rclone-up rclone copy "$DATA" "peer:rclone-$r/tree"
		timed "$sys" rclone-down rclone copy "peer:rclone-$r/tree" "$TMP/down-$sys-$r"
		diff -r "$DATA" "$TMP/down-$sys-$r" >/dev/null || { echo "rclone download from $sys differs" >&2; exit 1; }
		rm -rf "$TMP/down-$sys-$r"
	done
done

# --- summary --------------------------------------------------------------------------
col() { awk -v s="$1" -v w="$2" '$1 == s && $2 == w {print $3}' "$RESULTS" | median; }
mbs() { awk -v n="$BYTES" -v s="$1" 'BEGIN {printf "%.1f", n / s / 1e6}'; }
LOADAVG=$(printf '%s\n' "${LOADS[@]}" | awk '{s += $1; if ($1 > m) m = $1} END {printf "%.1f mean, %.1f max", s / NR, m}')

echo
echo "data: $FILES files, $(awk -v n="$BYTES" 'BEGIN {printf "%.1f", n / 1048576}') MiB; $ROUNDS rounds, medians;" \
	"$(nproc) CPUs; 1-minute load average during the runs: $LOADAVG"
echo "restic $(restic version | awk '{print $2}'), rclone $(rclone version | awk 'NR == 1 {print $2}'), minio: $MINIO_VERSION"
echo
echo "| system | restic backup | rclone copy up | rclone copy down |"
echo "|---|---:|---:|---:|"
for sys in $SYSTEMS; do
	b=$(col "$sys" restic-backup) u=$(col "$sys" rclone-up) d=$(col "$sys" rclone-down)
	echo "| $sys | $b s ($(mbs "$b") MB/s) | $(mbs "$u") MB/s ($u s) | $(mbs "$d") MB/s ($d s) |"
done
