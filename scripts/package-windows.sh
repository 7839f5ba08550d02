#!/usr/bin/env bash
# Writes dist/kuroko-<version>-windows-x86_64.zip: kuroko.exe (release, stripped), the saved
# scenarios, the docs and a Japanese README. Unzip and run `kuroko.exe serve --open`: no
# installer, no administrator rights, no internet. (The Wine test shim is never included.)
# Needs the cross toolchain (scripts/test-windows.sh installs it). Usage: scripts/package-windows.sh
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64)
scripts/install-packages.sh "kuroko package" "${packages[@]}"

target=x86_64-pc-windows-gnu
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
name="kuroko-$version-windows-x86_64"
echo "kuroko package: building kuroko.exe (release; the first release build takes 10–15 minutes)"
CARGO_TARGET_DIR=target-windows RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
  /usr/bin/cargo build --locked --release -Zbuild-std=std,panic_abort --target "$target" --bin kuroko

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/$name"
mkdir -p "$root/docs" "$root/scenarios"
x86_64-w64-mingw32-strip -o "$root/kuroko.exe" "target-windows/$target/release/kuroko.exe"
# The saved scenarios made for Windows (scenarios/juminhyo has pictures of the Linux demo's Qt
# window), without anything a run wrote or a demo generated.
for id in juminhyo-win; do
  s="scenarios/$id"
  mkdir -p "$root/scenarios/$id"
  (cd "$s" && find . -path ./output -prune -o -path ./input -prune -o -type f -print0 |
    xargs -0 -I{} cp --parents {} "$root/scenarios/$id/")
done
cp docs/guide.md docs/scripting-reference.md docs/windows.md docs/time-saved.md docs/launcher.md \
  docs/launcher.png "$root/docs/"
# Windows line ends for the README, so Notepad on any version shows it right.
sed 's/$/\r/' windows/README-ja.txt >"$root/README.txt"
mkdir -p dist
rm -f "dist/$name.zip"
python3 - "$stage" "$name" "dist/$name.zip" <<'PY'
import os, sys, zipfile
stage, name, out = sys.argv[1:]
tmp = out + ".part"
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
    for folder, _, files in sorted(os.walk(os.path.join(stage, name))):
        for f in sorted(files):
            path = os.path.join(folder, f)
            z.write(path, os.path.relpath(path, stage))
os.replace(tmp, out)
PY
size=$(du -h "dist/$name.zip" | cut -f1)
echo "kuroko package: dist/$name.zip ($size)"
unzip -l "dist/$name.zip" 2>/dev/null | tail -1 || true
