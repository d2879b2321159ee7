#!/usr/bin/env bash
# Builds tools/zetasql-check (the offline BigQuery SQL checker on Google's ZetaSQL analyser):
#   target/zetasql-check.jar  runnable with `java -jar`, its manifest Class-Path points at
#   target/lib/*.jar          the dependencies as Maven resolved them (the native analyser .so
#                             stays inside zetasql-jni-channel-linux and loads from there).
# Maven's local repository is ${XDG_CACHE_HOME:-$HOME/.cache}/props-backfill/m2 (CI caches it; an
# empty one is filled from the package registry Maven is configured with). Skips the build when the
# jar is newer than pom.xml and every source file. Prints the jar's path on stdout; Maven's output
# goes to stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jar="$here/target/zetasql-check.jar"
m2="${XDG_CACHE_HOME:-$HOME/.cache}/props-backfill/m2"

fail() { echo "zetasql-check build: $*" >&2; exit 1; }

command -v java >/dev/null 2>&1 || fail "java not found on PATH (need a Java 17 or newer JDK)"
java_version="$(java -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1)"
java_major="${java_version%%.*}"
[ "$java_major" = "1" ] && java_major="$(echo "$java_version" | cut -d. -f2)"
case "$java_major" in
  ''|*[!0-9]*) fail "cannot tell the Java version from 'java -version' (need Java 17 or newer)";;
esac
[ "$java_major" -ge 17 ] || fail "Java $java_version found, Java 17 or newer is needed"

up_to_date() {
  [ -f "$jar" ] && [ -d "$here/target/lib" ] || return 1
  [ -z "$(find "$here/pom.xml" "$here/src" -newer "$jar" -print -quit)" ]
}

if up_to_date; then
  echo "zetasql-check: up to date, not rebuilding" >&2
else
  command -v mvn >/dev/null 2>&1 || fail "mvn (Apache Maven) not found on PATH"
  command -v javac >/dev/null 2>&1 || fail "javac not found on PATH (need a JDK, not only a JRE)"
  mkdir -p "$m2"
  echo "zetasql-check: building with Maven (local repository $m2)" >&2
  start=$(date +%s)
  # Maven's output goes to stderr (this script's stdout is only the jar path), without the bare
  # colour-reset codes Debian's Maven 3.8 prints even in batch mode.
  mvn -B -q --no-transfer-progress -f "$here/pom.xml" -Dmaven.repo.local="$m2" package </dev/null 2>&1 \
    | sed -u $'s/\x1b\\[[0-9;]*m//g' >&2 \
    || fail "Maven build failed (see the output above)"
  [ -f "$jar" ] || fail "Maven finished but $jar is missing"
  touch "$jar"
  echo "zetasql-check: built in $(( $(date +%s) - start ))s" >&2
fi
echo "$jar"
