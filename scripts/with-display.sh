#!/usr/bin/env bash
# Runs a command on the current X display, or on a private Xvfb started for it when there is
# none (a server, CI, an SSH session). The Xvfb is stopped when the command ends.
set -euo pipefail

if [ -n "${DISPLAY:-}" ]; then
  exec "$@"
fi

for n in $(seq 90 140); do
  [ -e "/tmp/.X${n}-lock" ] && continue
  Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp -noreset >/dev/null 2>&1 &
  xvfb_pid=$!
  # Ready when it answers (the socket appears a little before the server accepts clients).
  for _ in $(seq 1 100); do
    [ -S "/tmp/.X11-unix/X$n" ] && xdpyinfo -display ":$n" >/dev/null 2>&1 && break
    kill -0 "$xvfb_pid" 2>/dev/null || break
    sleep 0.05
  done
  if [ -S "/tmp/.X11-unix/X$n" ]; then
    trap 'kill $xvfb_pid 2>/dev/null || true' EXIT
    export DISPLAY=":$n"
    echo "(no display was set: started Xvfb on $DISPLAY)" >&2
    "$@"
    exit $?
  fi
done
echo "could not start Xvfb" >&2
exit 4
