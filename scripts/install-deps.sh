#!/usr/bin/env bash
# Installs what lanchat needs to build, run and test on Debian 12, and nothing when
# everything is already there (so the README commands stay fast on a second run).
#   scripts/install-deps.sh          build + run the app
#   scripts/install-deps.sh --test   also what the test suite needs (Xvfb, xdotool, ...)
#   scripts/install-deps.sh --bench  also the benchmark's peers (ngIRCd, asio's examples)
#   (--test --bench: both)
set -euo pipefail

pkgs=(
  build-essential cmake ninja-build pkg-config
  libimgui-dev libglfw3-dev libgl-dev libglx-dev libx11-dev libgl1-mesa-dri
  libasio-dev nlohmann-json3-dev libreaderwriterqueue-dev libconcurrentqueue-dev
  libcli11-dev libstb-dev fonts-dejavu-core libicu-dev libsqlite3-dev
  libnotify-dev libssl-dev python3-glad librsvg2-bin libsimdjson-dev
)
test=0 bench=0
for arg in "$@"; do
  case "$arg" in
    --test) test=1 ;;
    --bench) bench=1 ;;
    *) echo "install-deps.sh: unknown option $arg (use --test, --bench or both)" >&2; exit 2 ;;
  esac
done
if [[ $test == 1 ]]; then
  pkgs+=(libgtest-dev googletest xvfb xauth xdotool xclip netcat-openbsd python3 iproute2
         clang libclang-rt-14-dev dbus dunst openssl
         desktop-file-utils x11-utils)
fi
if [[ $bench == 1 ]]; then
  pkgs+=(ngircd libasio-doc python3 xvfb xauth xdotool)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "lanchat: installing ${missing[*]}" >&2
if [[ $(id -u) -eq 0 ]]; then sudo=(); else sudo=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >&2
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
# The benchmark runs its own private ngIRCd; a system-wide one listening on every interface
# is not what anybody asked for.
if [[ " ${missing[*]} " == *" ngircd "* && -d /run/systemd/system ]]; then
  "${sudo[@]}" systemctl disable --now ngircd >/dev/null 2>&1 || true
fi
