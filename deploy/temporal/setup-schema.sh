#!/bin/sh
# One-shot (the compose service `temporal-schema`): creates Temporal's two PostgreSQL databases and
# brings their schemas to the version this admin-tools image carries, before the server starts.
# Re-running is safe, and is how the schema is upgraded after the image tags are raised: an
# existing database is kept, setup-schema leaves a schema past 0.0 alone, and update-schema
# applies only the versions not applied yet.
set -eu
: "${POSTGRES_SEEDS:?set POSTGRES_SEEDS to the PostgreSQL host}"
: "${POSTGRES_USER:?set POSTGRES_USER}"
: "${SQL_PASSWORD:?set SQL_PASSWORD (temporal-sql-tool reads the password from it)}"
schemas=/etc/temporal/schema/postgresql/v12

sql_tool() {
  database=$1
  shift
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" -u "$POSTGRES_USER" --db "$database" "$@"
}

# setup_database NAME VERSIONED_SCHEMA_DIR
setup_database() {
  echo "database $1"
  sql_tool "$1" create
  sql_tool "$1" setup-schema -v 0.0
  sql_tool "$1" update-schema -d "$2"
}

setup_database temporal "$schemas/temporal/versioned"
setup_database temporal_visibility "$schemas/visibility/versioned"
echo "Temporal schema is up to date"
