#!/usr/bin/env bash
# Runs once, when the compose PostgreSQL volume is first initialised (docker-entrypoint-initdb.d).
# One database and one login role per service: a service can only reach its own tables.
set -euo pipefail

: "${STOPCLOCK_DB_PASSWORD:?STOPCLOCK_DB_PASSWORD must be set}"

for service in ticket sla notification escalation survey; do
  # psql variables (:"name" quoted identifier, :'name' quoted literal) keep the values out of the SQL text.
  psql --no-psqlrc -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v name="stopclock_${service}" -v password="${STOPCLOCK_DB_PASSWORD}" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
done
