#!/usr/bin/env bash
# Installs what kuroko needs on Debian/Ubuntu: the system packages (X server, test windows,
# libraries the build links against) and checks for the Rust toolchain. Safe to run again.
set -euo pipefail

packages=(
  # a virtual display, real windows to drive, and tools tests use to poke them
  xvfb zenity xdotool xclip imagemagick x11-utils openbox fonts-droid-fallback
  # the Japanese font Debian and Ubuntu desktops have: the demo and tests must pass with it
  fonts-noto-cjk
  # a Qt window (tests/fixtures/qt/entry.py): typing must be exact in Qt as well as GTK
  python3 python3-pyqt5
  # ui:: on Linux: the accessibility bus (AT-SPI) GTK and Qt publish their controls on, and a
  # private session bus for the tests
  at-spi2-core libatk-bridge2.0-0 dbus-daemon
  # a real Japanese IME (tests/x11_ime.rs): fcitx5 with Mozc, on as in every office
  fcitx5 fcitx5-mozc fcitx5-frontend-gtk3
  # the launcher page (`kuroko serve`) is tested in a real, headless Chromium through WebDriver
  chromium chromium-driver
  # the shared ledger of several robot PCs: tests start their own PostgreSQL in a temporary
  # folder (as nobody when run as root, through setpriv)
  postgresql
  # libraries and tools the build needs (xcap, enigo)
  pkg-config clang libxcb1-dev libxrandr-dev libdbus-1-dev libpipewire-0.3-dev
  libwayland-dev libegl-dev libgbm-dev
  # the report as printed (tests/report_print.rs): LibreOffice prints the xlsx to PDF, poppler
  # reads its pages back
  libreoffice-calc-nogui poppler-utils
)

"$(dirname "$0")/install-packages.sh" "kuroko setup [1/2]" "${packages[@]}"

if ! command -v cargo >/dev/null 2>&1; then
  echo "kuroko setup: Rust is missing. Install it with" >&2
  echo "  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh" >&2
  exit 1
fi
echo "kuroko setup [2/2]: Rust $(rustc --version | cut -d' ' -f2) (kuroko needs 1.89 or newer)"
