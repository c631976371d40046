#!/bin/sh
# The demo `make demo` runs: what a person sees on a fresh machine.
set -eu
BIN=${1:-bin}
echo "== lafs version"
"$BIN/lafs" version | head -3
CAP=URI:SSK:ka5rjfyrmtap2dzo7lb2zpxxda:loysdkneuihxgdfwkfy5rmyw5t4eyvkdjlw2hb5u7uxvn67d6lda
echo "== attenuate a mutable file's writecap, one step at a time"
echo "write:  $CAP"
RO=$("$BIN/lafs" attenuate "$CAP")
echo "read:   $RO"
echo "verify: $("$BIN/lafs" attenuate "$RO")"
echo "== tahoe debug dump-cap --json"
"$BIN/tahoe" debug dump-cap --json "$RO"
