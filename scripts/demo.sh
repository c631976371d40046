#!/bin/sh
# `make demo`: the main job on the embedded default, on a fresh machine.
set -eu
BIN=${1:-bin}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# A fresh HOME, so the default node directory (~/.tahoe) is created on
# first use, as on a new machine, without touching the real one.
HOME=$WORK XDG_CONFIG_HOME=$WORK/.config
export HOME XDG_CONFIG_HOME
unset LAFS_NODE_DIRECTORY LAFS_OUTPUT LAFS_PROGRESS
NODE="$HOME/.tahoe"
head -c 5000000 /dev/urandom > "$WORK/photo.jpg"

echo "== lafs put: a 5 MB file onto the embedded local grid (created on first use)"
CAP=$("$BIN/lafs" put "$WORK/photo.jpg")
echo "$CAP"
echo "== lafs get: the file back, verified share by share"
"$BIN/lafs" get "$CAP" "$WORK/photo-back.jpg"
cmp "$WORK/photo.jpg" "$WORK/photo-back.jpg" && echo "identical: $(wc -c < "$WORK/photo-back.jpg") bytes"
echo "== the same cap computed with no grid (tahoe debug chk-cap)"
"$BIN/tahoe" debug chk-cap --convergence-file "$NODE/private/convergence" "$WORK/photo.jpg"
echo "== attenuate: read cap -> verify cap"
"$BIN/lafs" attenuate "$CAP"
echo "== lafs status"
"$BIN/lafs" status
