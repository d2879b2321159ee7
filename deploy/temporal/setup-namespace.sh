#!/bin/sh
# One-shot (the compose service `temporal-namespace`), once the server is healthy: creates the
# namespace and registers the custom search attributes our workflows upsert. SEARCH_ATTRIBUTES is
# "Name=Type …"; test/unit/compose.test.ts keeps it equal to src/shared/search-attributes.ts.
# SQL visibility has a fixed number of custom columns per type (3 Int, 10 Keyword), so add attributes
# sparingly. Re-running is safe: what exists is left as it is.
set -eu
: "${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS}"
: "${TEMPORAL_NAMESPACE:?set TEMPORAL_NAMESPACE}"
: "${SEARCH_ATTRIBUTES:?set SEARCH_ATTRIBUTES}"

# retry COMMAND…: a new namespace takes a few seconds to reach every service's namespace cache.
retry() {
  tries=0
  until "$@"; do
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then
      echo "gave up after $tries tries: $*" >&2
      return 1
    fi
    sleep 2
  done
}

retry temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null

if temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $TEMPORAL_NAMESPACE exists"
else
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" \
    --retention "${NAMESPACE_RETENTION:-168h}"
  retry temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" >/dev/null
fi

for pair in $SEARCH_ATTRIBUTES; do
  name=${pair%%=*}
  type=${pair#*=}
  if temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" | grep -qw -- "$name"; then
    echo "search attribute $name exists"
  else
    retry temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" \
      --name "$name" --type "$type"
  fi
done
echo "namespace $TEMPORAL_NAMESPACE is ready"
