# lib.sh: pieces shared by the peer benchmarks (sourced, not run).

# bench_cache: prints the directory that keeps the peers' binaries between runs (created
# if missing): $BENCH_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/walrus-bench-peers.
# Each binary is named after its module version (minio-VERSION, weed-VERSION); delete
# the directory to rebuild them.
bench_cache() {
	local d=${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/walrus-bench-peers}
	mkdir -p "$d"
	echo "$d"
}

# mod_version MODULE QUERY: the module version QUERY (latest, or a version) resolves to,
# asked of the module proxy.
mod_version() {
	(cd "${TMPDIR:-/tmp}" && GOFLAGS=-mod=mod go list -m -json "$1@$2") | awk -F'"' '$2 == "Version" {print $4; exit}'
}

# install_minio DIR: sets MINIO to a minio binary: $MINIO if set, else `minio` on PATH,
# else DIR/minio-VERSION, installed there first with `go install
# github.com/minio/minio@VERSION` if missing (several minutes). VERSION is what
# $MINIO_MODULE_VERSION (default latest) resolves to. Sets MINIO_VERSION.
install_minio() {
	if [ -z "${MINIO:-}" ]; then
		if command -v minio >/dev/null; then
			MINIO=$(command -v minio)
		else
			local v
			v=$(mod_version github.com/minio/minio "${MINIO_MODULE_VERSION:-latest}")
			[ -n "$v" ] || { echo "cannot resolve github.com/minio/minio@${MINIO_MODULE_VERSION:-latest}" >&2; return 1; }
			MINIO="$1/minio-$v"
			if [ ! -x "$MINIO" ]; then
				echo "installing MinIO (go install github.com/minio/minio@$v into $1)"
				local gobin
				gobin=$(mktemp -d "$1/gobin.XXXXXX")
				GOBIN="$gobin" go install "github.com/minio/minio@$v"
				mv "$gobin/minio" "$MINIO"
				rm -rf "$gobin"
			fi
		fi
	fi
	MINIO_VERSION=$("$MINIO" --version 2>/dev/null | head -n1)
	# A go-installed MinIO calls itself DEVELOPMENT.GOGET; its module version says more.
	case $MINIO_VERSION in *DEVELOPMENT*)
		MINIO_VERSION=$(go version -m "$MINIO" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/minio/minio" {print $3}') ;;
	esac
}

# start_seaweedfs DIR: sets WEED to a weed binary: $WEED if set, else `weed` on PATH,
# else DIR/weed-VERSION (VERSION is what $WEED_MODULE_VERSION, default latest, resolves
# to). When that binary is missing it starts building it in the background, in its own
# process group, and sets WEED_BUILD_PID; wait_seaweedfs waits for it. The build runs
# inside a copy of the module source (`go mod download`), with GOFLAGS=-mod=mod, because
# `go install` refuses the module's replace directives. Its log is DIR/weed-VERSION.log.
start_seaweedfs() {
	WEED_BUILD_PID=
	if [ -n "${WEED:-}" ]; then return 0; fi
	if command -v weed >/dev/null; then
		WEED=$(command -v weed)
		return 0
	fi
	local v
	v=$(mod_version github.com/seaweedfs/seaweedfs "${WEED_MODULE_VERSION:-latest}")
	[ -n "$v" ] || { echo "cannot resolve github.com/seaweedfs/seaweedfs@${WEED_MODULE_VERSION:-latest}" >&2; return 1; }
	WEED="$1/weed-$v"
	[ -x "$WEED" ] && return 0
	echo "building SeaweedFS $v in the background (log: $WEED.log)"
	setsid bash -c '
		set -e
		out=$1 v=$2
		src=$(cd "${TMPDIR:-/tmp}" && go mod download -json "github.com/seaweedfs/seaweedfs@$v" | awk -F"\"" "\$2 == \"Dir\" {print \$4}")
		rm -rf "$out.src"
		cp -r "$src" "$out.src"
		chmod -R u+w "$out.src"
		cd "$out.src"
		GOFLAGS="-mod=mod -buildvcs=false" go build -o "$out.tmp" ./weed
		mv "$out.tmp" "$out"
		rm -rf "$out.src"
	' build-weed "$WEED" "$v" >"$WEED.log" 2>&1 &
	WEED_BUILD_PID=$!
}

# wait_seaweedfs SECONDS: waits up to SECONDS for the build start_seaweedfs started.
# Returns 0 when $WEED is usable; otherwise stops the build (go's build cache keeps what
# it compiled, so the next run continues) and returns 1.
wait_seaweedfs() {
	if [ -n "${WEED_BUILD_PID:-}" ]; then
		local deadline=$((SECONDS + $1))
		while ((SECONDS < deadline)); do
			kill -0 "$WEED_BUILD_PID" 2>/dev/null || break
			sleep 1
		done
		if kill -0 "$WEED_BUILD_PID" 2>/dev/null; then
			kill -- "-$WEED_BUILD_PID" 2>/dev/null || true
			wait "$WEED_BUILD_PID" 2>/dev/null || true
			WEED_BUILD_PID=
			return 1
		fi
		wait "$WEED_BUILD_PID" 2>/dev/null || true
		WEED_BUILD_PID=
	fi
	[ -x "${WEED:-}" ] || return 1
	WEED_VERSION=$("$WEED" version 2>/dev/null | head -n1)
}

# median: the median of the numbers on stdin, one a line.
median() { sort -n | awk '{a[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.4f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# wait_http URL TRIES: waits until URL answers 2xx, one try a second.
wait_http() {
	for _ in $(seq 1 "$2"); do
		curl -fsS "$1" >/dev/null 2>&1 && return 0
		sleep 1
	done
	return 1
}
