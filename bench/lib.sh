# lib.sh: pieces shared by the peer benchmarks (sourced, not run).

# install_minio DIR: sets MINIO to a minio binary: $MINIO if set, else `minio` on PATH,
# else one installed with `go install github.com/minio/minio@latest` into DIR (several
# minutes). Sets MINIO_VERSION.
install_minio() {
	if [ -z "${MINIO:-}" ]; then
		if command -v minio >/dev/null; then
			MINIO=$(command -v minio)
		else
			echo "installing MinIO (go install github.com/minio/minio@latest)"
			GOBIN="$1" go install github.com/minio/minio@latest
			MINIO="$1/minio"
		fi
	fi
	MINIO_VERSION=$("$MINIO" --version 2>/dev/null | head -n1)
	# A go-installed MinIO calls itself DEVELOPMENT.GOGET; its module version says more.
	case $MINIO_VERSION in *DEVELOPMENT*)
		MINIO_VERSION=$(go version -m "$MINIO" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/minio/minio" {print $3}') ;;
	esac
}

# install_seaweedfs DIR: sets WEED to a weed binary: $WEED if set, else `weed` on PATH,
# else one built from the module source of github.com/seaweedfs/seaweedfs@latest (go
# install refuses its replace directives, so the module is downloaded and built inside
# a copy of it). Sets WEED_VERSION.
install_seaweedfs() {
	if [ -z "${WEED:-}" ]; then
		if command -v weed >/dev/null; then
			WEED=$(command -v weed)
		else
			echo "building SeaweedFS from github.com/seaweedfs/seaweedfs@latest"
			local src
			src=$(go mod download -json github.com/seaweedfs/seaweedfs@latest | awk -F'"' '$2 == "Dir" {print $4}')
			cp -r "$src" "$1/seaweedfs-src"
			chmod -R u+w "$1/seaweedfs-src"
			(cd "$1/seaweedfs-src" && go build -o "$1/weed" ./weed)
			WEED="$1/weed"
		fi
	fi
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
