#!/bin/sh
# Run every libFuzzer target for S seconds (default 600) and report executions
# per second and corpus size, for the hostile-input note. Crashes stop the run.
set -e
S=${1:-600}
cd "$(dirname "$0")/.."
make -s fuzz >/dev/null
report=build/fuzz/long-report.txt
: > "$report"
for f in build/fuzz/fuzz_*; do
	n=${f#build/fuzz/fuzz_}
	mkdir -p "build/fuzz/corpus-$n"
	log="build/fuzz/$n.long.log"
	nice -n 19 "$f" -max_total_time="$S" -print_final_stats=1 -artifact_prefix=build/fuzz/ \
		"build/fuzz/corpus-$n" "fuzz/corpus/$n" > "$log" 2>&1 || {
		echo "$n: FINDING, see $log" | tee -a "$report"; exit 1; }
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
	files=$(ls "build/fuzz/corpus-$n" | wc -l)
	echo "$n: ${S}s, $runs runs, $((runs / S)) exec/s, corpus $files files, no finding" \
		| tee -a "$report"
done
