#!/usr/bin/env bash
# scripts/install-deps.sh — the single list of Debian 12 packages keygate needs to build, test,
# benchmark and run. Idempotent: installs only what is missing. Needs root (or sudo).
set -Eeuo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # libraries (Boost 1.81, not the 1.74 default)
  libboost1.81-dev libssl-dev libhiredis-dev libpqxx-dev libpq-dev libsqlite3-dev
  nlohmann-json3-dev libspdlog-dev libfmt-dev libyaml-cpp-dev libcli11-dev
  # the binary's malloc (cmake/allocator.cmake; runtime library only)
  libtcmalloc-minimal4
  # tests and benchmarks
  googletest libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev
  postgresql redis-server redis-tools openssl curl python3 procps iproute2 wrk nginx
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present" >&2
  exit 0
fi

sudo=()
[[ $(id -u) == 0 ]] || sudo=(sudo)
echo "install-deps: installing ${missing[*]}" >&2
# Never let the packages' own services start (postgresql/redis would bind their default ports;
# keygate's scripts start private instances instead).
made_policy=0
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
  "${sudo[@]}" chmod +x /usr/sbin/policy-rc.d
  made_policy=1
fi
trap '[[ $made_policy == 1 ]] && "${sudo[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done" >&2
