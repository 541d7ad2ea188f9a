#!/usr/bin/env bash
# Installs the Debian packages the test suite runs for real, when what they provide is missing:
#   scripts/system-packages.sh CHECK:PACKAGE ...
# CHECK is a binary looked up on PATH (protoc), or an absolute path that must exist (a Python module's directory,
# a header or .proto file): /usr/lib/python3/dist-packages/fastapi.
# With root or passwordless sudo it installs them through apt-get; otherwise it stops at once with one line naming
# the exact command to run. Nothing happens when every check already passes.
set -euo pipefail

present() {
  if [[ $1 == /* ]]; then [ -e "$1" ]; else command -v "$1" >/dev/null 2>&1; fi
}

missing_bins=()
packages=()
for pair in "$@"; do
  bin=${pair%%:*}
  pkg=${pair#*:}
  if ! present "$bin"; then
    missing_bins+=("$bin")
    [[ " ${packages[*]-} " == *" $pkg "* ]] || packages+=("$pkg")
  fi
done
[ ${#packages[@]} -eq 0 ] && exit 0

command_line="apt-get update && apt-get install -y --no-install-recommends ${packages[*]}"
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "gatehouse tests need ${missing_bins[*]}: run \`sudo sh -c '$command_line'\`, then make test again" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "gatehouse tests need ${missing_bins[*]} (Debian packages: ${packages[*]}) and this machine has no apt-get: install them, then make test again" >&2
  exit 1
fi

echo "installing ${packages[*]} (for ${missing_bins[*]})"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get -o DPkg::Lock::Timeout=300 update -qq
"${as_root[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
for bin in "${missing_bins[@]}"; do
  present "$bin" || { echo "installed ${packages[*]} but $bin is still missing" >&2; exit 1; }
done
