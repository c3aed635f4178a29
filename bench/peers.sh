#!/usr/bin/env bash
# peers.sh: walrus-go against MinIO and SeaweedFS on this machine, the same curl HTTP
# workload, systems interleaved round by round: store 1 KiB, 1 MiB and 64 MiB, read 1 MiB
# and 64 MiB; medians, server CPU seconds per operation and peak RSS of each system's
# processes. Writes a Markdown section to stdout and, with OUT=FILE, appends it to FILE.
#
# Usage (from the repository root): bench/peers.sh, or make bench-peers.
#
# Environment (all optional):
#   ROUNDS      rounds (default 12)
#   SYSTEMS     systems to measure (default "walrus seaweedfs minio")
#   MINIO, WEED paths of the binaries; otherwise on PATH, otherwise installed into a
#               temporary directory (MinIO with go install, SeaweedFS built from its module
#               source; together several minutes)
#   PORT_BASE   first of the ports used on 127.0.0.1 (default 39300; up to PORT_BASE+220)
#   OUT         a file to append the Markdown section to
#   KEEP=1      keep the temporary directory
#
# Setups: walrus-go is `walrus devnet` (4 storage nodes, 100 shards, a CometBFT validator,
# the publisher/aggregator in front), stores with PUT /v1/blobs?epochs=1 and reads with
# GET /v1/blobs/{id}. MinIO is one process over 4 directories (erasure coding 2+2), with
# curl's SigV4. SeaweedFS is a master, 2 volume servers and a filer with replication 001
# (2 copies). Needs go and curl.
set -euo pipefail

ROUNDS=${ROUNDS:-12}
SYSTEMS=${SYSTEMS:-"walrus seaweedfs minio"}
PORT_BASE=${PORT_BASE:-39300}
has() { [[ " $SYSTEMS " == *" $1 "* ]]; }

REPO=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/peers.XXXXXX")
PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
mkdir -p "$TMP/bin"

echo "building walrus"
(cd "$REPO" && go build -o "$TMP/bin/walrus" ./cmd/walrus)
MINIO_VERSION="not measured" WEED_VERSION="not measured"
if has minio; then install_minio "$TMP/bin"; fi
if has seaweedfs; then install_seaweedfs "$TMP/bin"; fi

for s in 1k:1024 1m:1048576 64m:67108864; do
	head -c "${s#*:}" /dev/urandom >"$TMP/data-${s%%:*}"
done

# --- servers --------------------------------------------------------------------------
P=$PORT_BASE
declare -A ROOT # system -> pid of the process tree to account
if has walrus; then
	echo "starting walrus devnet"
	"$TMP/bin/walrus" devnet --dir "$TMP/devnet" --s3 off --http "127.0.0.1:$((P + 1))" \
		--chain-rpc "127.0.0.1:$((P + 2))" --chain-p2p "127.0.0.1:$((P + 3))" --node-port $((P + 10)) \
		>"$TMP/devnet.out" 2>"$TMP/devnet.err" &
	ROOT[walrus]=$!
	PIDS+=("$!")
	for _ in $(seq 1 600); do
		grep -q 'devnet ready' "$TMP/devnet.out" 2>/dev/null && break
		kill -0 "${ROOT[walrus]}" 2>/dev/null || { cat "$TMP/devnet.err" >&2; exit 1; }
		sleep 1
	done
	grep -q 'devnet ready' "$TMP/devnet.out" || { echo "the devnet did not start" >&2; exit 1; }
fi
MINIO_ADDR=127.0.0.1:$((P + 100))
if has minio; then
	echo "starting MinIO ($MINIO_VERSION), 4 drives"
	mkdir -p "$TMP"/minio/d{1,2,3,4}
	MINIO_ROOT_USER=benchminio MINIO_ROOT_PASSWORD=benchminio-secret-key MINIO_BROWSER=off \
		"$MINIO" server --quiet --address "$MINIO_ADDR" --console-address "127.0.0.1:$((P + 101))" \
		"$TMP/minio/d{1...4}" >"$TMP/minio.log" 2>&1 &
	ROOT[minio]=$!
	PIDS+=("$!")
	wait_http "http://$MINIO_ADDR/minio/health/live" 120 || { cat "$TMP/minio.log" >&2; exit 1; }
	# Live is not ready: a 4-drive setup answers 503 until its erasure set has formed.
	made=0
	for _ in $(seq 1 300); do
		curl -fsS -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user benchminio:benchminio-secret-key \
			"http://$MINIO_ADDR/bench" >/dev/null 2>&1 && { made=1; break; }
		sleep 1
	done
	[ "$made" = 1 ] || { echo "MinIO did not create the bucket" >&2; cat "$TMP/minio.log" >&2; exit 1; }
fi
FILER=127.0.0.1:$((P + 210))
if has seaweedfs; then
	echo "starting SeaweedFS ($WEED_VERSION): master, 2 volume servers, filer, replication 001"
	mkdir -p "$TMP"/weed/{m,v1,v2,f}
	(
		"$WEED" master -ip 127.0.0.1 -port $((P + 200)) -mdir "$TMP/weed/m" -defaultReplication 001 -volumeSizeLimitMB 1024 &
		"$WEED" volume -ip 127.0.0.1 -port $((P + 201)) -dir "$TMP/weed/v1" -mserver 127.0.0.1:$((P + 200)) -max 20 &
		"$WEED" volume -ip 127.0.0.1 -port $((P + 202)) -dir "$TMP/weed/v2" -mserver 127.0.0.1:$((P + 200)) -max 20 &
		"$WEED" filer -ip 127.0.0.1 -port $((P + 210)) -master 127.0.0.1:$((P + 200)) -defaultReplicaPlacement 001 &
		wait
	) >"$TMP/weed.log" 2>&1 &
	ROOT[seaweedfs]=$!
	PIDS+=("$!")
	wait_http "http://$FILER/" 180 || { tail -n 50 "$TMP/weed.log" >&2; exit 1; }
	# The first write creates volumes; let it happen before measuring.
	for _ in $(seq 1 60); do
		curl -fsS -X PUT --data-binary @"$TMP/data-1k" "http://$FILER/warm/x" >/dev/null 2>&1 && break
		sleep 1
	done
fi

# tree PID: PID and all its descendants.
tree() {
	local p=$1
	echo "$p"
	for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do tree "$c"; done
}
# cpu SYSTEM: CPU seconds (user + system) used so far by the system's processes.
cpu() {
	local t=0
	for p in $(tree "${ROOT[$1]}"); do
		[ -r "/proc/$p/stat" ] || continue
		t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	awk -v t="$t" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.3f", t / hz}'
}
# rss SYSTEM: the sum of the peak RSS (VmHWM) of the system's processes, in MiB, and
# how many processes.
rss() {
	local kb=0 n=0
	for p in $(tree "${ROOT[$1]}"); do
		local v
		v=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
		[ -n "$v" ] || continue
		kb=$((kb + v)) n=$((n + 1))
	done
	echo "$((kb / 1024)) $n"
}

# --- operations -----------------------------------------------------------------------
# store SYSTEM SIZE R: stores data-SIZE as object R; sets ID (what read needs).
store() {
	case $1 in
	walrus)
		ID=$(curl -fsS -X PUT --data-binary @"$TMP/data-$2" "http://127.0.0.1:$((P + 1))/v1/blobs?epochs=1" |
			grep -o '"blobId":"[^"]*"' | head -n1 | cut -d'"' -f4)
		[ -n "$ID" ] ;;
	minio)
		ID=$2-$3
		curl -fsS -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user benchminio:benchminio-secret-key \
			--data-binary @"$TMP/data-$2" "http://$MINIO_ADDR/bench/$ID" >/dev/null ;;
	seaweedfs)
		ID=$2-$3
		curl -fsS -X PUT --data-binary @"$TMP/data-$2" "http://$FILER/bench/$ID" >/dev/null ;;
	esac
}
read_obj() {
	case $1 in
	walrus) curl -fsS -o "$TMP/out" "http://127.0.0.1:$((P + 1))/v1/blobs/$2" ;;
	minio) curl -fsS -o "$TMP/out" --aws-sigv4 "aws:amz:us-east-1:s3" --user benchminio:benchminio-secret-key "http://$MINIO_ADDR/bench/$2" ;;
	seaweedfs) curl -fsS -o "$TMP/out" "http://$FILER/bench/$2" ;;
	esac
}

RESULTS="$TMP/results"
: >"$RESULTS"
now() { date +%s.%N; }
# measure SYSTEM OP CMD...: runs CMD, records seconds and the system's CPU seconds.
measure() {
	local sys=$1 op=$2 t0 t1 c0 c1
	shift 2
	c0=$(cpu "$sys")
	t0=$(now)
	"$@" || { echo "failed: $sys $op" >&2; exit 1; }
	t1=$(now)
	c1=$(cpu "$sys")
	awk -v s="$sys" -v o="$op" -v a="$t0" -v b="$t1" -v c="$c0" -v d="$c1" \
		'BEGIN {printf "%s %s %.4f %.3f\n", s, o, b - a, d - c}' | tee -a "$RESULTS"
}

declare -A IDS
for r in $(seq 1 "$ROUNDS"); do
	echo "round $r of $ROUNDS (load $(cut -d' ' -f1 /proc/loadavg))"
	for sys in $SYSTEMS; do
		for size in 1k 1m 64m; do
			measure "$sys" "store-$size" store "$sys" "$size" "$r"
			IDS[$sys-$size]=$ID
		done
		for size in 1m 64m; do
			measure "$sys" "read-$size" read_obj "$sys" "${IDS[$sys-$size]}"
			cmp -s "$TMP/out" "$TMP/data-$size" || { echo "$sys returned different data for $size" >&2; exit 1; }
		done
	done
done

# --- summary --------------------------------------------------------------------------
col() { awk -v s="$1" -v o="$2" -v f="$3" '$1 == s && $2 == o {print $f}' "$RESULTS" | median; }
ms() { awk -v v="$1" 'BEGIN {printf "%.1f ms", v * 1000}'; }
mbs() { awk -v v="$1" -v n="$2" 'BEGIN {printf "%.1f MB/s", n / v / 1e6}'; }
{
	echo
	echo "## Store and read over HTTP: walrus-go, SeaweedFS and MinIO ($(date -u +%Y-%m-%d))"
	echo
	echo "Produced by \`make bench-peers\` (bench/peers.sh): $ROUNDS rounds, systems interleaved, medians;" \
		"$(nproc) CPUs. MinIO $MINIO_VERSION; SeaweedFS $WEED_VERSION."
	echo
	echo "| | store 1 KiB | store 1 MiB | store 64 MiB | read 1 MiB | read 64 MiB | server CPU per 64 MiB store | peak RSS (processes) |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	for sys in $SYSTEMS; do
		read -r mib n < <(rss "$sys")
		echo "| $sys | $(ms "$(col "$sys" store-1k 3)") | $(ms "$(col "$sys" store-1m 3)") |" \
			"$(mbs "$(col "$sys" store-64m 3)" 67108864) | $(ms "$(col "$sys" read-1m 3)") |" \
			"$(mbs "$(col "$sys" read-64m 3)" 67108864) | $(col "$sys" store-64m 4) s | $mib MiB ($n) |"
	done
} | tee "$TMP/section.md"
if [ -n "${OUT:-}" ]; then cat "$TMP/section.md" >>"$OUT"; fi
