#!/usr/bin/env bash
# Usage: tools/zetasql-check/run.sh <input.json>
# Builds the checker if needed (build.sh), then analyses every statement of the input in one JVM.
# Exit: 0 all statements as expected, 1 some not, 2 invalid input, 3 analyser failure.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ "$#" -ne 1 ]; then
  echo "usage: $0 <input.json>" >&2
  exit 2
fi
jar="$("$here/build.sh")"
# C1 only and the serial GC: the run is short, start-up is what costs.
exec java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -jar "$jar" "$1"
