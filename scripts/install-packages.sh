#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages named after LABEL that are not installed yet, with apt-get
# (through sudo when not root), showing apt's own progress lines as it goes; fails naming any
# package it could not install. Used by setup.sh and test-windows.sh.
# Usage: install-packages.sh LABEL PACKAGE...
set -euo pipefail
label=$1
shift
missing=()
for p in "$@"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "$label: system packages are installed"
  exit 0
fi
echo "$label: installing ${#missing[@]} system package(s) with apt-get (a few minutes on a fresh machine):"
echo "  ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends \
  -o Dpkg::Progress-Fancy=0 "${missing[@]}" 2>&1 |
  grep --line-buffered -E '^(Get:|Unpacking|Setting up)' | sed -u 's/^/  /' || true
still=()
for p in "${missing[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || still+=("$p")
done
if [ ${#still[@]} -gt 0 ]; then
  echo "$label: apt-get could not install ${still[*]}" >&2
  exit 1
fi
