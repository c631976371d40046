#!/bin/sh
# fuzz-short.sh [GO [FUZZTIME]]: runs every FuzzXxx target in the module
# for FUZZTIME (default 3s) each, from the module's root.
#
# A run that fails with only "context deadline exceeded" and writes no
# crasher under testdata/fuzz is the race in Go's fuzz coordinator at the
# end of -fuzztime (golang/go#75804, fixed in Go 1.27), not a finding: it
# is run again, three runs at most. A crasher written, or any other
# failure, fails at once with the run's output.
set -eu
go=${1:-go}
fuzztime=${2:-3s}
for f in $(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do
	dir=$(dirname "$f")
	for t in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$f"); do
		echo "fuzz $dir $t ($fuzztime)"
		runs=1
		while :; do
			before=$(ls "$dir/testdata/fuzz/$t" 2>/dev/null || true)
			if out=$("$go" test -run '^$' -fuzz "^$t\$" -fuzztime "$fuzztime" -fuzzminimizetime 100x "$dir" 2>&1); then
				break
			fi
			after=$(ls "$dir/testdata/fuzz/$t" 2>/dev/null || true)
			if [ "$before" = "$after" ] && [ "$runs" -lt 3 ] &&
				printf '%s\n' "$out" | grep -q '^    context deadline exceeded$' &&
				! printf '%s\n' "$out" | grep -q 'Failing input written'; then
				echo "$t: the fuzz coordinator's deadline race (golang/go#75804), no crasher written: run again"
				runs=$((runs + 1))
				continue
			fi
			printf '%s\n' "$out"
			exit 1
		done
	done
done
