#!/usr/bin/env bash
# Build the Kubernetes components LeEngine runs (kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet from k8s.io/kubernetes, and
# kwok from sigs.k8s.io/kwok) from Go modules into a per-version cache:
#
#   ${LEENGINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/leengine}/kube/<k8s version>/bin/
#
# Versions come from tools/kube/go.mod and tools/kube/kwok/go.mod (go.sum
# verifies every module). Progress goes to stderr; the bin dir is printed on
# stdout, so `BIN="$(tools/kube/build.sh)"` works. A complete cache is reused
# without running go at all.
#
# Usage: build.sh [--print-dir | --check | --force | --help]
#   (none)       build what is missing, then print the bin dir
#   --print-dir  print the bin dir and exit (builds nothing)
#   --check      exit 0 if the cache is complete and current, 1 if not
#   --force      rebuild even if the cache is complete
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Bump when the way binaries are built changes, to invalidate old caches.
RECIPE=2

die() { echo "build.sh: error: $*" >&2; exit 1; }
log() { echo "$*" >&2; }

mode=build
case "${1:-}" in
  "") ;;
  --print-dir) mode=print ;;
  --check) mode=check ;;
  --force) mode=force ;;
  -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
  *) die "unknown argument: $1 (try --help)" ;;
esac
[[ $# -le 1 ]] || die "at most one argument (try --help)"

# Version of a required module, read straight from a go.mod (single-line or
# block form), so the cached path needs no go invocation.
modver() {
  awk -v m="$2" '($1=="require" && $2==m){print $3; exit} ($1==m && $2 ~ /^v/){print $2; exit}' "$1"
}
K8S_VERSION="$(modver "$HERE/go.mod" k8s.io/kubernetes)"
KWOK_VERSION="$(modver "$HERE/kwok/go.mod" sigs.k8s.io/kwok)"
[[ "$K8S_VERSION" =~ ^v1\.([0-9]+)\.[0-9]+$ ]] || die "cannot read the k8s.io/kubernetes version from $HERE/go.mod"
K8S_MINOR="${BASH_REMATCH[1]}"
[[ -n "$KWOK_VERSION" ]] || die "cannot read the sigs.k8s.io/kwok version from $HERE/kwok/go.mod"

CACHE_ROOT="${LEENGINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/leengine}/kube"
VERSION_DIR="$CACHE_ROOT/$K8S_VERSION"
BIN_DIR="$VERSION_DIR/bin"
STAMP="$VERSION_DIR/stamp"

if [[ "$mode" == print ]]; then
  echo "$BIN_DIR"
  exit 0
fi

# name|module dir (relative to tools/kube)|package
TARGETS=(
  "kube-apiserver|.|k8s.io/kubernetes/cmd/kube-apiserver"
  "kube-controller-manager|.|k8s.io/kubernetes/cmd/kube-controller-manager"
  "kube-scheduler|.|k8s.io/kubernetes/cmd/kube-scheduler"
  "kubelet|.|k8s.io/kubernetes/cmd/kubelet"
  "kwok|kwok|sigs.k8s.io/kwok/cmd/kwok"
)

# Everything that decides what gets built. If it changes, the cache is stale.
fingerprint() {
  { echo "recipe=$RECIPE"
    cat "$HERE/go.mod" "$HERE/go.sum" "$HERE/kwok/go.mod" "$HERE/kwok/go.sum"
  } | sha256sum | cut -d' ' -f1
}
FP="$(fingerprint)"

cache_ok() {
  [[ -f "$STAMP" ]] && grep -qx "fingerprint=$FP" "$STAMP" || return 1
  local t
  for t in "${TARGETS[@]}"; do [[ -x "$BIN_DIR/${t%%|*}" ]] || return 1; done
}

if [[ "$mode" == check ]]; then
  cache_ok && exit 0 || exit 1
fi
if [[ "$mode" == build ]] && cache_ok; then
  log "kube $K8S_VERSION + kwok $KWOK_VERSION: cached"
  echo "$BIN_DIR"
  exit 0
fi

command -v go >/dev/null 2>&1 || die "'go' not found in PATH; Go >= 1.22 is needed to build the Kubernetes binaries (Debian 12's own golang is 1.19, too old)"

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.lock"
if ! flock -n 9; then
  log "another build.sh is building into $CACHE_ROOT; waiting for it..."
  flock 9
  if [[ "$mode" == build ]] && cache_ok; then
    log "kube $K8S_VERSION + kwok $KWOK_VERSION: built by the other run"
    echo "$BIN_DIR"
    exit 0
  fi
fi

# Leftovers of a build that was killed (we hold the lock, so nobody else's).
rm -rf "$CACHE_ROOT"/.build-* "$CACHE_ROOT"/.old-*

# Build into a temp dir next to the cache (same filesystem), then rename it into
# place, so an interrupted or failed build never leaves a half-filled cache.
TMP="$(mktemp -d "$CACHE_ROOT/.build-$K8S_VERSION.XXXXXX")"
TICKER="" GOPID=""
# go build runs in its own process group (setsid), so that a signal to this
# script stops the compiler processes too instead of waiting for them.
SETSID="$(command -v setsid || true)"
cleanup() {
  [[ -z "$TICKER" ]] || kill "$TICKER" 2>/dev/null || true
  if [[ -n "$GOPID" ]]; then
    kill -TERM -- "-$GOPID" 2>/dev/null || kill -TERM "$GOPID" 2>/dev/null || true
    wait "$GOPID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'log "build.sh: interrupted; nothing was cached"; exit 130' INT
trap 'log "build.sh: terminated; nothing was cached"; exit 143' TERM
mkdir -p "$TMP/bin" "$TMP/log"

export GOWORK=off            # a go.work elsewhere in the repo must not take part
export GOTOOLCHAIN=local     # use the installed go; never fetch another toolchain
export CGO_ENABLED=0         # static binaries; all five build and run without cgo

log "building Kubernetes $K8S_VERSION + kwok $KWOK_VERSION with $(go version | cut -d' ' -f3) into $BIN_DIR"

# Release metadata, as kubernetes/hack/lib/version.sh stamps it. buildDate is the
# release's module timestamp (reproducible) unless SOURCE_DATE_EPOCH is set.
# The module proxy carries no commit hash, so gitCommit is empty unless
# KUBE_GIT_COMMIT is given (unset, it would print the "$Format:%H$" placeholder).
if [[ -n "${SOURCE_DATE_EPOCH:-}" ]]; then
  BUILD_DATE="$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)"
else
  BUILD_DATE="$(cd "$HERE" && go list -mod=readonly -m -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes 2>/dev/null || true)"
  [[ -n "$BUILD_DATE" ]] || BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
fi
k8s_ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $pkg.gitMajor=1 -X $pkg.gitMinor=$K8S_MINOR"
  k8s_ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitTreeState=clean"
  k8s_ldflags+=" -X $pkg.buildDate=$BUILD_DATE"
  k8s_ldflags+=" -X $pkg.gitCommit=${KUBE_GIT_COMMIT:-}"
done
kwok_ldflags="-X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${K8S_VERSION#v}"

total_start=$(date +%s)
n=${#TARGETS[@]} i=0
for t in "${TARGETS[@]}"; do
  IFS='|' read -r name dir pkg <<<"$t"
  i=$((i + 1))
  if [[ "$name" == kwok ]]; then ldflags="-s -w $kwok_ldflags"; tags=""; else ldflags="-s -w$k8s_ldflags"; tags="selinux,notest"; fi
  log "building $name ($i/$n)..."
  start=$(date +%s)
  # a heartbeat, so a long compile is not mistaken for a hang
  # (sleep without our stdout/stderr: a killed ticker must not leave a sleep holding
  # a caller's pipe open for up to a minute)
  ( while sleep 60 >/dev/null 2>&1; do kill -0 $$ 2>/dev/null || exit 0; log "  ... still building $name ($(( $(date +%s) - start ))s)"; done ) &
  TICKER=$!
  rc=0
  ( cd "$HERE/$dir" && exec ${SETSID:+"$SETSID"} go build -mod=readonly -trimpath -buildvcs=false \
      ${tags:+-tags "$tags"} -ldflags "$ldflags" -o "$TMP/bin/$name" "$pkg" ) >"$TMP/log/$name.log" 2>&1 &
  GOPID=$!
  wait "$GOPID" || rc=$?
  GOPID=""
  kill "$TICKER" 2>/dev/null || true; wait "$TICKER" 2>/dev/null || true; TICKER=""
  if [[ $rc -ne 0 ]]; then
    cp "$TMP/log/$name.log" "$CACHE_ROOT/build-$name.log" 2>/dev/null || true
    log "---- last lines of go build output for $name ----"
    tail -n 40 "$TMP/log/$name.log" >&2
    log "----"
    die "building $name failed (exit $rc) after $(( $(date +%s) - start ))s; full log: $CACHE_ROOT/build-$name.log"
  fi
  log "  $name built in $(( $(date +%s) - start ))s"
done

# Smoke check: every binary runs and reports the release it was stamped with.
for t in "${TARGETS[@]}"; do
  name="${t%%|*}"
  if [[ "$name" == kwok ]]; then want="${KWOK_VERSION}"; else want="Kubernetes $K8S_VERSION"; fi
  out="$("$TMP/bin/$name" --version 2>&1)" || die "$name --version failed: $out"
  [[ "$out" == *"$want"* ]] || die "$name --version printed '$out', expected '$want'"
done

elapsed=$(( $(date +%s) - total_start ))
{
  echo "fingerprint=$FP"
  echo "kubernetes=$K8S_VERSION"
  echo "kwok=$KWOK_VERSION"
  echo "go=$(go version | cut -d' ' -f3)"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "build_seconds=$elapsed"
} >"$TMP/stamp"
rm -rf "$TMP/log"
chmod 755 "$TMP"

# Swap the finished dir into place. A stale dir is renamed away first (rename
# cannot replace a non-empty dir) and removed afterwards.
old=""
if [[ -e "$VERSION_DIR" ]]; then
  old="$(mktemp -d "$CACHE_ROOT/.old-$K8S_VERSION.XXXXXX")"
  mv -T "$VERSION_DIR" "$old/d"
fi
mv -T "$TMP" "$VERSION_DIR"
[[ -z "$old" ]] || rm -rf "$old"
rm -f "$CACHE_ROOT"/build-*.log

log "built 5 binaries in ${elapsed}s: $BIN_DIR"
echo "$BIN_DIR"
