#!/usr/bin/env bash
# Installs what is missing for LeEngine on a fresh Debian 12 machine, as root, and
# nothing when all is there (then it takes about a second). Idempotent.
#   scripts/setup.sh            system packages + npm dependencies
#   LEENGINE_SKIP_APT=1 ...     skip the Debian packages (e.g. on a developer laptop)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[31m[setup] error:\033[0m %s\n' "$*" >&2; exit 1; }

# The platform's real components (see docs/components.md) and the tools around them.
DEBIAN_PACKAGES=(
  etcd-server postgresql nginx-light libnginx-mod-http-lua lua-resty-core
  docker-registry buildah skopeo containerd runc containernetworking-plugins
  git prometheus prometheus-alertmanager chromium
  wrk openssl busybox-static iproute2 util-linux ca-certificates curl
)

install_debian_packages() {
  [ "${LEENGINE_SKIP_APT:-}" = 1 ] && { say "LEENGINE_SKIP_APT=1: not checking Debian packages"; return; }
  local missing=()
  for p in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  # kubectl: Debian's kubernetes-client (v1.20.2) works with the v1.31 cells for what the
  # tests do; some images ship another one (a /usr/bin/kubectl from another package,
  # which kubernetes-client would conflict with). See docs/cells.md.
  command -v kubectl >/dev/null || missing+=(kubernetes-client)
  if [ ${#missing[@]} -eq 0 ]; then
    say "Debian packages: all ${#DEBIAN_PACKAGES[@]} present"
    return
  fi
  [ "$(id -u)" = 0 ] || die "missing Debian packages (${missing[*]}); run as root to install them"
  say "installing Debian packages: ${missing[*]}"
  # Packages such as postgresql, nginx and etcd start a system-wide service on install.
  # LeEngine starts its own instances on free ports, so keep the system ones from starting.
  local made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  trap '[ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q || die "apt-get update failed"
  apt-get install -y -q --no-install-recommends "${missing[@]}" || die "apt-get install failed"
  [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
  trap - EXIT
  say "Debian packages installed"
}

install_npm_dependencies() {
  command -v npm >/dev/null || die "npm is missing (apt-get install npm, or any Node.js >= 20 with npm)"
  # npm ci only when the lock file changed since the last install.
  if [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ] \
     && [ -x node_modules/.bin/node ]; then
    say "npm dependencies: up to date"
  else
    say "npm ci (brings the pinned Node.js 24 runtime too)"
    npm ci --no-audit --no-fund --loglevel=error
    touch node_modules/.package-lock.json
  fi
  say "runtime: $(node_modules/.bin/node --version)"
}

install_kube_binaries() {
  # Kubernetes is built from Go modules (no release binaries can be downloaded here):
  # minutes the first time, with progress; cached by version after that.
  [ "${LEENGINE_SKIP_KUBE:-}" = 1 ] && { say "LEENGINE_SKIP_KUBE=1: not building Kubernetes"; return; }
  if tools/kube/build.sh --check 2>/dev/null; then
    say "Kubernetes binaries: cached in $(tools/kube/build.sh --print-dir)"
    return
  fi
  command -v go >/dev/null || die "Go (>= 1.22) is needed to build the Kubernetes binaries: install it, or set LEENGINE_SKIP_KUBE=1 to skip cells"
  say "building the Kubernetes binaries from Go modules (first time only)"
  tools/kube/build.sh >/dev/null
}

build_console() {
  # The console is the one part with a build step (Vite); rebuilt when a source is newer.
  local out=packages/console/dist/index.html
  if [ -f "$out" ] && [ -z "$(find packages/console/src packages/console/index.html packages/common/src -newer "$out" -print -quit)" ]; then
    say "console: built"
    return
  fi
  say "building the console (vite)"
  npm run --silent build -w @leengine/console >/dev/null || die "the console build failed: npm run build -w @leengine/console"
}

install_debian_packages
install_npm_dependencies
install_kube_binaries
build_console
