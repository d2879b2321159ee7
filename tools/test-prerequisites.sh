#!/usr/bin/env bash
# What `npm test` needs besides node_modules, made ready once and cached (npm's `pretest` runs this;
# .ci/run too): the ZetaSQL checker jar (Java 17 + Maven, tools/zetasql-check/build.sh) and the
# fake-gcs-server binary (Go module). The Temporal CLI is located or built by jest's global setup.
# Each step is a no-op when its output is already there, so a warm run costs well under a second.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_bin="${XDG_CACHE_HOME:-$HOME/.cache}/props-backfill/bin"

# ZetaSQL checker: the BigQuery SQL validity tests spawn its jar.
"$root/tools/zetasql-check/build.sh" >/dev/null

# fake-gcs-server: the GCS emulator the export-sink tests run against (test/helpers/fake-gcs.ts
# finds it through FAKE_GCS_SERVER_PATH, then this cache folder, then PATH).
fake_gcs_module="github.com/fsouza/fake-gcs-server@v1.56.1"
if [ -n "${FAKE_GCS_SERVER_PATH:-}" ]; then
  [ -x "$FAKE_GCS_SERVER_PATH" ] || { echo "FAKE_GCS_SERVER_PATH=$FAKE_GCS_SERVER_PATH is not an executable file." >&2; exit 1; }
elif [ ! -x "$cache_bin/fake-gcs-server" ] && ! command -v fake-gcs-server >/dev/null 2>&1; then
  command -v go >/dev/null 2>&1 || { echo "fake-gcs-server is missing and Go is not installed: install Go >= 1.25, or set FAKE_GCS_SERVER_PATH." >&2; exit 1; }
  echo "test prerequisites: building fake-gcs-server (GOBIN=$cache_bin go install $fake_gcs_module; a minute or two, once)" >&2
  mkdir -p "$cache_bin"
  GOBIN="$cache_bin" CGO_ENABLED=0 go install "$fake_gcs_module" </dev/null
fi
