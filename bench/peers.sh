#!/usr/bin/env bash
# peers.sh: walrus-go against MinIO and SeaweedFS on this machine, the same curl HTTP
# workload, systems interleaved round by round: store 1 KiB, 1 MiB and 64 MiB, read 1 MiB
# and 64 MiB; medians, server CPU seconds per 64 MiB store (and the storage nodes' share
# of it for walrus-go) and the summed peak RSS of each system's processes. Rewrites the
# results part of docs/performance-vs-peers.md (everything below its results marker).
#
# Usage (from anywhere in the checkout):
#   bench/peers.sh            12 rounds (make bench-peers)
#   bench/peers.sh --quick    3 rounds
#
# Environment (all optional):
#   ROUNDS        rounds (default 12, or 3 with --quick)
#   SYSTEMS       systems to measure (default "walrus seaweedfs minio")
#   MINIO, WEED   paths of the binaries; otherwise on PATH, otherwise taken from the cache
#                 directory, where they are installed on the first run: MinIO with go
#                 install (minutes), SeaweedFS built from its module source in the
#                 background while the rest starts (20 minutes or more on 2 busy cores)
#   BENCH_CACHE   the cache directory (default ${XDG_CACHE_HOME:-~/.cache}/walrus-bench-peers)
#   MINIO_MODULE_VERSION, WEED_MODULE_VERSION  module versions to install (default latest)
#   WEED_BUILD_TIMEOUT  seconds to wait for the SeaweedFS build before measuring without
#                 it (default 2400)
#   PORT_BASE     first of the ports used on 127.0.0.1 (default 39300; up to PORT_BASE+220,
#                 and SeaweedFS's gRPC ports 10000 above its HTTP ports)
#   OUT           the Markdown file whose results part is rewritten (default
#                 docs/performance-vs-peers.md; OUT=- prints only)
#   KEEP=1        keep the temporary directory
#
#   BLOBID_RUNS   runs of the blob ID measurement (default 5; 0 skips it)
#
# Before each system's turn in a round the script runs sync (not timed), so that no system
# pays in its synced writes for the write-back of another's unsynced data (on ext4 an
# fsync waits for the journal commit, which carries other files' dirty data).
# After the rounds, with the servers stopped, it measures the blob ID of 64 MiB at
# n = 1000: redstuff's BenchmarkBlobID (in-process, against hashing the encoding's bytes
# with x/crypto's Blake2b on every core in the same run) and the whole `walrus blob-id`
# process against that same reference.
#
# Setups: walrus-go is `walrus devnet` (4 storage nodes, 100 shards, a CometBFT validator,
# the publisher/aggregator in front), stores with PUT /v1/blobs?epochs=1 and reads with
# GET /v1/blobs/{id}. MinIO is one process over 4 directories (erasure coding 2+2,
# MINIO_CI_CD=1 so that it accepts directories on the root disk), with curl's SigV4.
# SeaweedFS is a master, 2 volume servers and a filer with replication 001 (2 copies).
# Every round stores new random data, so that walrus-go never finds a blob already
# certified. Needs go and curl.
set -euo pipefail

QUICK=0
for a in "$@"; do
	case $a in
	--quick) QUICK=1 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "peers.sh: unknown argument $a (try --help)" >&2; exit 2 ;;
	esac
done
if [ "$QUICK" = 1 ]; then ROUNDS=${ROUNDS:-3}; else ROUNDS=${ROUNDS:-12}; fi
SYSTEMS=${SYSTEMS:-"walrus seaweedfs minio"}
PORT_BASE=${PORT_BASE:-39300}
WEED_BUILD_TIMEOUT=${WEED_BUILD_TIMEOUT:-2400}
BLOBID_RUNS=${BLOBID_RUNS:-5}
has() { [[ " $SYSTEMS " == *" $1 "* ]]; }
for tool in go curl setsid; do
	command -v "$tool" >/dev/null || { echo "peers.sh: $tool is not installed" >&2; exit 1; }
done

REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$REPO/docs/performance-vs-peers.md}
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"
CACHE=$(bench_cache)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/peers.XXXXXX")
PIDS=()
WEED_BUILD_PID=
declare -A ROOT # system -> pid of the process tree to account
# tree PID: PID and all its descendants.
tree() {
	local p=$1
	echo "$p"
	for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do tree "$c"; done
}
# The devnet stops its nodes itself; SeaweedFS's processes are children of a subshell.
cleanup() {
	for pid in "${PIDS[@]}"; do
		for p in $(if [ "$pid" = "${ROOT[seaweedfs]:-}" ]; then tree "$pid"; else echo "$pid"; fi); do
			kill "$p" 2>/dev/null || true
		done
	done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	if [ -n "$WEED_BUILD_PID" ]; then kill -- "-$WEED_BUILD_PID" 2>/dev/null || true; fi
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
mkdir -p "$TMP/bin"
load1() { cut -d' ' -f1 /proc/loadavg; }
LOADS=("$(load1)")

# --- binaries: the slow SeaweedFS build first, in the background ----------------------
MINIO_VERSION="not measured" WEED_VERSION="not measured"
if has seaweedfs; then start_seaweedfs "$CACHE"; fi
echo "building walrus"
(cd "$REPO" && go build -o "$TMP/bin/walrus" ./cmd/walrus)
if has minio; then install_minio "$CACHE"; fi
NOTES=()
if has seaweedfs; then
	if [ -n "$WEED_BUILD_PID" ]; then echo "waiting for the SeaweedFS build (at most $WEED_BUILD_TIMEOUT s)"; fi
	if ! wait_seaweedfs "$WEED_BUILD_TIMEOUT"; then
		msg="SeaweedFS was not measured: its build (go build ./weed of its module source) did not finish within $WEED_BUILD_TIMEOUT s here (see ${WEED:-the build}.log); go's build cache keeps its progress, so a later run continues it."
		echo "peers.sh: $msg" >&2
		NOTES+=("$msg")
		SYSTEMS=$(echo " $SYSTEMS " | sed 's/ seaweedfs / /; s/^ *//; s/ *$//')
	fi
fi

# --- servers --------------------------------------------------------------------------
P=$PORT_BASE
if has walrus; then
	echo "starting walrus devnet"
	"$TMP/bin/walrus" devnet --dir "$TMP/devnet" --nodes 4 --shards 100 --s3 off --portal off \
		--http "127.0.0.1:$((P + 1))" --chain-rpc "127.0.0.1:$((P + 2))" --chain-p2p "127.0.0.1:$((P + 3))" \
		--node-port $((P + 10)) >"$TMP/devnet.out" 2>"$TMP/devnet.err" &
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
MINIO_AUTH=(--aws-sigv4 "aws:amz:us-east-1:s3" --user benchminio:benchminio-secret-key)
if has minio; then
	echo "starting MinIO ($MINIO_VERSION), 4 drives, EC:2"
	mkdir -p "$TMP"/minio/d{1,2,3,4}
	# MINIO_CI_CD: without it MinIO refuses drives on the root disk ("drive not found")
	# and never forms its erasure set.
	MINIO_CI_CD=1 MINIO_STORAGE_CLASS_STANDARD=EC:2 MINIO_ROOT_USER=benchminio \
		MINIO_ROOT_PASSWORD=benchminio-secret-key MINIO_BROWSER=off \
		"$MINIO" server --quiet --address "$MINIO_ADDR" --console-address "127.0.0.1:$((P + 101))" \
		"$TMP/minio/d{1...4}" >"$TMP/minio.log" 2>&1 &
	ROOT[minio]=$!
	PIDS+=("$!")
	wait_http "http://$MINIO_ADDR/minio/health/live" 120 || { cat "$TMP/minio.log" >&2; exit 1; }
	# Live is not ready: a 4-drive setup answers 503 until its erasure set has formed.
	made=0
	for _ in $(seq 1 300); do
		curl -fsS -X PUT "${MINIO_AUTH[@]}" "http://$MINIO_ADDR/bench" >/dev/null 2>&1 && { made=1; break; }
		sleep 1
	done
	[ "$made" = 1 ] || { echo "MinIO did not create the bucket" >&2; tail -n 30 "$TMP/minio.log" >&2; exit 1; }
fi
FILER=127.0.0.1:$((P + 210))
if has seaweedfs; then
	echo "starting SeaweedFS ($WEED_VERSION): master, 2 volume servers, filer, replication 001"
	mkdir -p "$TMP"/weed/{m,v1,v2,f}
	(
		cd "$TMP/weed/f"
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
	warm=0
	for _ in $(seq 1 120); do
		curl -fsS -X PUT --data-binary "warm" "http://$FILER/warm/x" >/dev/null 2>&1 && { warm=1; break; }
		sleep 1
	done
	[ "$warm" = 1 ] || { echo "SeaweedFS did not take a first write" >&2; tail -n 50 "$TMP/weed.log" >&2; exit 1; }
fi

# is_node PID: whether PID is a walrus storage node (`walrus node --config ...`).
is_node() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q ' node --config '; }
# cpu SYSTEM: CPU seconds (user + system) used so far by the system's processes, and by
# its storage node processes.
cpu() {
	local t=0 tn=0 v
	for p in $(tree "${ROOT[$1]}"); do
		v=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null) || continue
		[ -n "$v" ] || continue
		t=$((t + v))
		if is_node "$p"; then tn=$((tn + v)); fi
	done
	awk -v t="$t" -v n="$tn" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f %.2f\n", t / hz, n / hz}'
}
# rss SYSTEM: the sum of the peak RSS (VmHWM) of the system's processes, in MiB, and
# how many processes.
rss() {
	local kb=0 n=0 v
	for p in $(tree "${ROOT[$1]}"); do
		v=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
		[ -n "$v" ] || continue
		kb=$((kb + v)) n=$((n + 1))
	done
	echo "$((kb / 1024)) $n"
}

# --- operations -----------------------------------------------------------------------
# Every request's time is curl's own (time_total: from the start of the transfer to its
# last byte), written to $TMP/ctime; starting a curl process costs about 45 ms here, which
# would otherwise swamp the small operations.
TIMED=(-w '%{stderr}%{time_total}\n')
# store SYSTEM SIZE R: stores data-SIZE as object R; sets ID (what read_obj needs).
store() {
	case $1 in
	walrus)
		ID=$(curl -fsS "${TIMED[@]}" -X PUT --data-binary @"$TMP/data-$2" "http://127.0.0.1:$((P + 1))/v1/blobs?epochs=1" 2>"$TMP/ctime" |
			grep -o '"blobId":"[^"]*"' | head -n1 | cut -d'"' -f4)
		[ -n "$ID" ] ;;
	minio)
		ID=$2-$3
		# MinIO refuses curl 7.88's signature over the body; sign without the payload hash.
		curl -fsS "${TIMED[@]}" -X PUT "${MINIO_AUTH[@]}" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" --data-binary @"$TMP/data-$2" \
			"http://$MINIO_ADDR/bench/$ID" >/dev/null 2>"$TMP/ctime" ;;
	seaweedfs)
		ID=$2-$3
		curl -fsS "${TIMED[@]}" -X PUT --data-binary @"$TMP/data-$2" "http://$FILER/bench/$ID" >/dev/null 2>"$TMP/ctime" ;;
	esac
}
read_obj() {
	case $1 in
	walrus) curl -fsS "${TIMED[@]}" -o "$TMP/out" "http://127.0.0.1:$((P + 1))/v1/blobs/$2" 2>"$TMP/ctime" ;;
	minio) curl -fsS "${TIMED[@]}" -o "$TMP/out" "${MINIO_AUTH[@]}" "http://$MINIO_ADDR/bench/$2" 2>"$TMP/ctime" ;;
	seaweedfs) curl -fsS "${TIMED[@]}" -o "$TMP/out" "http://$FILER/bench/$2" 2>"$TMP/ctime" ;;
	esac
}

RESULTS="$TMP/results"
: >"$RESULTS"
# measure SYSTEM OP CMD...: runs CMD; records its request's seconds (curl's) and the CPU seconds of the system's
# processes and of its storage nodes during it.
measure() {
	local sys=$1 op=$2 t c0 c1 n0 n1
	shift 2
	read -r c0 n0 < <(cpu "$sys")
	: >"$TMP/ctime"
	"$@" || { echo "failed: $sys $op" >&2; cat "$TMP/ctime" >&2; exit 1; }
	read -r c1 n1 < <(cpu "$sys")
	t=$(tail -n1 "$TMP/ctime")
	awk -v s="$sys" -v o="$op" -v t="$t" -v c="$c0" -v d="$c1" -v m="$n0" -v n="$n1" \
		'BEGIN {printf "%s %s %.4f %.2f %.2f\n", s, o, t, d - c, n - m}' | tee -a "$RESULTS"
}

declare -A IDS
for r in $(seq 1 "$ROUNDS"); do
	LOADS+=("$(load1)")
	echo "round $r of $ROUNDS (load ${LOADS[-1]})"
	for s in 1k:1024 1m:1048576 64m:67108864; do
		head -c "${s#*:}" /dev/urandom >"$TMP/data-${s%%:*}"
	done
	for sys in $SYSTEMS; do
		sync
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
LOADS+=("$(load1)")
declare -A RSS
for sys in $SYSTEMS; do RSS[$sys]=$(rss "$sys"); done

# --- blob ID of 64 MiB at n = 1000, with the servers stopped ---------------------------
BLOBID="$TMP/blobid"
: >"$BLOBID"
if [ "$BLOBID_RUNS" -gt 0 ]; then
	for pid in "${PIDS[@]}"; do
		for p in $(tree "$pid"); do kill "$p" 2>/dev/null || true; done
	done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	PIDS=()
	echo "measuring the blob ID of 64 MiB at n = 1000 (load $(load1))"
	(cd "$REPO" && go test -c -o "$TMP/bin/redstuff.test" ./internal/redstuff/)
	head -c 67108864 /dev/urandom >"$TMP/data-blobid"
	"$TMP/bin/walrus" blob-id "$TMP/data-blobid" --n-shards 1000 >/dev/null # the file into the page cache
	for _ in $(seq 1 "$BLOBID_RUNS"); do
		t0=$(date +%s%N)
		"$TMP/bin/walrus" blob-id "$TMP/data-blobid" --n-shards 1000 >/dev/null
		t1=$(date +%s%N)
		echo "process $(((t1 - t0) / 1000))" >>"$BLOBID"
	done
	# BenchmarkBlobID/n=1000/64MiB-2  3  150000000 ns/op  447 MB/s  350000000 ref-ns/op  0.43 ratio ...
	(cd "$REPO/internal/redstuff" && "$TMP/bin/redstuff.test" -test.run '^$' -test.bench '^BenchmarkBlobID$/^n=1000$/^64MiB$' \
		-test.benchtime 3x -test.count "$BLOBID_RUNS") | tee "$TMP/blobid.bench" |
		awk '/^BenchmarkBlobID/ {for (i = 1; i < NF; i++) {if ($(i + 1) == "ns/op") ns = $i; if ($(i + 1) == "ref-ns/op") ref = $i}
			printf "inprocess %d\nreference %d\n", ns / 1000, ref / 1000}' >>"$BLOBID"
	grep -q '^inprocess' "$BLOBID" || { echo "BenchmarkBlobID printed no result" >&2; cat "$TMP/blobid.bench" >&2; exit 1; }
	cat "$BLOBID"
fi

# --- summary --------------------------------------------------------------------------
col() { awk -v s="$1" -v o="$2" -v f="$3" '$1 == s && $2 == o {print $f}' "$RESULTS" | median; }
ms() { awk -v v="$1" 'BEGIN {printf "%.1f ms", v * 1000}'; }
mbs() { awk -v v="$1" -v n="$2" 'BEGIN {printf "%.1f MB/s", n / v / 1e6}'; }
name() { case $1 in walrus) echo walrus-go ;; minio) echo MinIO ;; seaweedfs) echo SeaweedFS ;; esac; }
loadstats=$(printf '%s\n' "${LOADS[@]}" | awk 'NR == 1 || $1 < lo {lo = $1} NR == 1 || $1 > hi {hi = $1} {s += $1} END {printf "between %.1f and %.1f (mean %.1f)", lo, hi, s / NR}')
{
	echo "Run of $(date -u +%Y-%m-%d) ($(date -u +%H:%M) UTC), \`bash bench/peers.sh$([ "$QUICK" = 1 ] && echo ' --quick')\`:" \
		"$ROUNDS rounds, systems interleaved, medians; $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo) GiB of memory."
	echo "The 1-minute load average, sampled before each round, was $loadstats."
	echo "MinIO $MINIO_VERSION; SeaweedFS $WEED_VERSION; $(go version | cut -d' ' -f3)."
	for n in "${NOTES[@]}"; do echo; echo "$n"; done
	echo
	echo "| | store 1 KiB | store 1 MiB | store 64 MiB | read 1 MiB | read 64 MiB | server CPU per 64 MiB store | of it, storage nodes | peak RSS (processes) |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	for sys in $SYSTEMS; do
		read -r mib n <<<"${RSS[$sys]}"
		nodes="-"
		if [ "$sys" = walrus ]; then nodes="$(col "$sys" store-64m 5) s"; fi
		echo "| $(name "$sys") | $(ms "$(col "$sys" store-1k 3)") | $(ms "$(col "$sys" store-1m 3)") |" \
			"$(mbs "$(col "$sys" store-64m 3)" 67108864) | $(ms "$(col "$sys" read-1m 3)") |" \
			"$(mbs "$(col "$sys" read-64m 3)" 67108864) | $(col "$sys" store-64m 4) s | $nodes | $mib MiB ($n) |"
	done
	if [ -s "$BLOBID" ]; then
		bmed() { awk -v k="$1" '$1 == k {print $2 / 1e6}' "$BLOBID" | median; }
		ref=$(bmed reference)
		echo
		echo "Blob ID of 64 MiB at n = 1000, with the servers stopped (load $(load1)), medians of $BLOBID_RUNS;" \
			"the reference is x/crypto's Blake2b-256 over as many bytes as the encoding holds (n² symbols, one hash each)" \
			"on $(nproc) goroutines, measured inside BenchmarkBlobID's runs:"
		echo
		echo "| | time | reference | ratio |"
		echo "|---|---:|---:|---:|"
		for k in inprocess process; do
			case $k in
			inprocess) label="BenchmarkBlobID (ComputeMetadata on a reused Encoder)" ;;
			process) label="\`walrus blob-id\` process (start, map the file, compute, print)" ;;
			esac
			v=$(bmed "$k")
			awk -v l="$label" -v v="$v" -v r="$ref" 'BEGIN {printf "| %s | %.0f ms | %.0f ms | %.2f |\n", l, v * 1000, r * 1000, v / r}'
		done
	fi
	echo
	echo "Every measurement (system, operation, seconds, CPU seconds of the system, of its storage nodes):"
	echo
	echo '```'
	cat "$RESULTS"
	echo '```'
} >"$TMP/section.md"
cat "$TMP/section.md"
MARK='<!-- bench/peers.sh writes below this line -->'
if [ "$OUT" != - ]; then
	if grep -qxF "$MARK" "$OUT" 2>/dev/null; then
		{ sed "/^$(printf '%s' "$MARK" | sed 's/[][\/.*^$]/\\&/g')\$/q" "$OUT"; echo; cat "$TMP/section.md"; } >"$TMP/doc.md"
	else
		{ [ -f "$OUT" ] && cat "$OUT"; echo; echo "$MARK"; echo; cat "$TMP/section.md"; } >"$TMP/doc.md"
	fi
	cp "$TMP/doc.md" "$OUT"
	echo "wrote $OUT"
fi
