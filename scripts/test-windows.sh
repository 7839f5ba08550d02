#!/usr/bin/env bash
# The Windows tests: installs the cross toolchain (Debian's Rust 1.96 with its std source, and
# mingw) and Wine, builds kuroko.exe and the crate's unit tests for x86_64-pc-windows-gnu into
# target-windows/ (its own folder: two compilers sharing one rebuild each other's output), and
# runs them under Wine on a private Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."
# The tests start their own session buses; one inherited from the caller that does not answer
# would hold GTK, Qt and Chromium back 25 s per question.
unset DBUS_SESSION_BUS_ADDRESS AT_SPI_BUS_ADDRESS

packages=(rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64 wine64 xvfb x11-utils xdotool)
scripts/install-packages.sh "kuroko windows" "${packages[@]}"

target=x86_64-pc-windows-gnu
export CARGO_TARGET_DIR=target-windows
# Debian's Rust (1.96) cross-builds std from its source; rustup's toolchain stays the default.
export RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
cargo_win() {
  /usr/bin/cargo "$1" --locked -Zbuild-std=std,panic_abort --target "$target" "${@:2}"
}

if [ ! -d "$CARGO_TARGET_DIR/$target" ]; then
  echo "kuroko windows: the first build compiles std and about 350 crates for Windows: 15–20 minutes on 2 cores"
fi
echo "kuroko windows: building kuroko.exe and the Win32 受付システム (examples/win32-intake.rs)"
cargo_win build --bin kuroko --example win32-intake
echo "kuroko windows: building the unit tests"
cargo_win test --lib --no-run
tests_exe=$(cargo_win test --lib --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("profile", {}).get("test") and m.get("executable"):
        print(m["executable"])')
out="$CARGO_TARGET_DIR/$target/debug"

# Wine 8.0 lacks ProcessPrng (bcryptprimitives.dll), which Rust's std asks for: a test shim
# beside the exes, never shipped.
x86_64-w64-mingw32-gcc -shared -O2 -o "$out/bcryptprimitives.dll" \
  tests/windows/processprng-shim.c tests/windows/processprng-shim.def
cp "$out/bcryptprimitives.dll" "$out/deps/"
cp "$out/bcryptprimitives.dll" "$out/examples/"

# The Windows desktop tests are a Linux test binary that drives the Windows programs.
echo "kuroko windows: building the Windows desktop tests (a Linux program that drives Wine)"
(unset CARGO_TARGET_DIR RUSTC RUSTC_BOOTSTRAP; cargo test --locked --test windows --no-run)

export WINEPREFIX="$PWD/$CARGO_TARGET_DIR/wine" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
export KUROKO_EXE="$PWD/$out/kuroko.exe" KUROKO_WINE=/usr/lib/wine/wine64
export KUROKO_INTAKE_EXE="$PWD/$out/examples/win32-intake.exe"
# Always a private display: the tests type and click.
env -u DISPLAY scripts/with-display.sh bash -c '
  set -euo pipefail
  echo "kuroko windows: preparing the Wine prefix"
  "$KUROKO_WINE" wineboot -u >/dev/null 2>&1 || true
  echo "kuroko windows: unit tests under Wine"
  "$KUROKO_WINE" "$0" --test-threads=1
  echo "kuroko windows: kuroko.exe under Wine"
  tests/windows/smoke.sh
  echo "kuroko windows: the Windows desktop (typing, windows, pictures, stop, the demo) under Wine"
  (unset CARGO_TARGET_DIR RUSTC RUSTC_BOOTSTRAP; cargo test --locked --test windows -- --test-threads=1)
' "$tests_exe"
