#!/usr/bin/env bash
# A stand-in for an old business system's intake screen: for each application it asks for the
# name, then the address, in real GTK dialogs (zenity), and appends what it received to a CSV.
# Usage: examples/intake-window.sh <registrations.csv> <count>
set -euo pipefail
out=${1:?registrations file}
count=${2:-5}
for i in $(seq 1 "$count"); do
  name=$(zenity --entry --title="交付申請 $i 氏名" --text="氏名 (name)" --width=420) || exit 0
  address=$(zenity --entry --title="交付申請 $i 住所" --text="住所 (address)" --width=420) || exit 0
  printf '%s,"%s","%s"\n' "$i" "$name" "$address" >> "$out"
done
