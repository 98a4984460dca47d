#!/usr/bin/env bash
# Creates the platform's five databases and their login roles on a PostgreSQL
# server, as the server's administrator: one per service, and the gateway's
# store of web sessions. Writes each one's connection URL (with a new random
# password) to a private file for its Kubernetes Secret (docs/OPERATIONS.md,
# "Installing", steps 1 and 3).
#
#   deploy/postgres/create-databases.sh '<admin URL>' <folder for the URLs>
#
# e.g. deploy/postgres/create-databases.sh \
#        'postgres://sen_admin@sen-db.postgres.database.azure.com:5432/postgres?sslmode=verify-full&sslrootcert=postgres-ca.pem' \
#        ./database-urls
#
# Works with an administrator that is not a superuser but has CREATEROLE and
# CREATEDB, as on Azure Database for PostgreSQL flexible server, Amazon RDS and
# Cloud SQL. Such an administrator may create a database owned by another role
# only as a member of that role (otherwise: "must be member of role"), so the
# script first grants each new role to the administrator. On PostgreSQL 16 or
# later that grant may instead be written `GRANT sen_pupils TO CURRENT_USER WITH
# SET TRUE, INHERIT FALSE` (the SET option alone is what CREATE DATABASE needs);
# the plain grant used here works from PostgreSQL 14 on. The membership also
# lets the administrator restore a dump as the role (OPERATIONS.md, "Backup and
# restore").
#
# Settings (environment):
#   SEN_DB_PREFIX       names of the roles and databases: <prefix>_schools, ...,
#                       <prefix>_gateway (default sen)
#   SEN_DB_URL_OPTIONS  query string of the URLs written (default
#                       sslmode=verify-full&sslrootcert=/etc/sen/postgres/ca.pem:
#                       TLS, checking the server's certificate and name against
#                       the provider's CA bundle mounted from the ConfigMap
#                       sen-postgres-ca)
#   SEN_DB_HOST         host:port in the URLs written (default: the admin URL's)
#   SEN_DB_PARTS        which databases to make, space-separated (default:
#                       schools pupils referrals caseloads gateway); an
#                       installation whose services' databases exist already
#                       adds the gateway's alone with SEN_DB_PARTS=gateway
#
# Nothing is changed if any of the roles or databases exists already. The
# passwords are 48 hex digits (nothing to URL-encode); they are sent to the
# server over the admin connection and written only to the URL files (0600).
set -euo pipefail

usage() { echo "usage: $0 '<admin postgres:// URL>' <folder for the URL files>" >&2; exit 2; }
[ $# -eq 2 ] || usage
admin_url=$1
out=$2
prefix=${SEN_DB_PREFIX:-sen}
options=${SEN_DB_URL_OPTIONS:-sslmode=verify-full&sslrootcert=/etc/sen/postgres/ca.pem}
# The four services, then the gateway (its web sessions).
known="schools pupils referrals caseloads gateway"
read -ra parts <<<"${SEN_DB_PARTS:-$known}"
[ ${#parts[@]} -gt 0 ] || { echo "$0: SEN_DB_PARTS names no database" >&2; exit 2; }
declare -A seen
for part in "${parts[@]}"; do
  [[ " $known " == *" $part "* ]] || { echo "$0: SEN_DB_PARTS: '$part' is none of: $known" >&2; exit 2; }
  [ -z "${seen[$part]:-}" ] || { echo "$0: SEN_DB_PARTS: '$part' is named twice" >&2; exit 2; }
  seen[$part]=1
done

case "$admin_url" in postgres://* | postgresql://*) ;; *) echo "$0: the admin URL must start with postgres://" >&2; exit 2 ;; esac
[[ "$prefix" =~ ^[a-z][a-z0-9_]{0,40}$ ]] || { echo "$0: SEN_DB_PREFIX must be lower-case letters, digits and _" >&2; exit 2; }
command -v psql >/dev/null || { echo "$0: psql is needed" >&2; exit 2; }
command -v openssl >/dev/null || { echo "$0: openssl is needed (for the passwords)" >&2; exit 2; }

# host:port of the server, from the admin URL: after the scheme and any
# credentials, up to the path or query.
host=${admin_url#*://}
host=${host##*@}
host=${host%%/*}
host=${host%%\?*}
host=${SEN_DB_HOST:-$host}
[ -n "$host" ] || { echo "$0: no host in the admin URL; set SEN_DB_HOST" >&2; exit 2; }

umask 077
mkdir -p "$out"
for part in "${parts[@]}"; do
  [ ! -e "$out/${prefix}_$part.url" ] || { echo "$0: $out/${prefix}_$part.url exists; not overwriting it" >&2; exit 1; }
done

psql_admin() { psql "$admin_url" --no-psqlrc --quiet --set ON_ERROR_STOP=1 "$@"; }

names=""
for part in "${parts[@]}"; do names+="${names:+,}'${prefix}_$part'"; done
existing=$(psql_admin --tuples-only --no-align --command \
  "SELECT string_agg(name, ', ') FROM (SELECT rolname AS name FROM pg_roles WHERE rolname IN ($names)
     UNION SELECT datname FROM pg_database WHERE datname IN ($names)) found")
if [ -n "$existing" ]; then
  echo "$0: already on the server: $existing. Nothing was changed." >&2
  exit 1
fi

declare -A password
script=""
for part in "${parts[@]}"; do
  name="${prefix}_$part"
  password[$part]=$(openssl rand -hex 24)
  # The password travels as a psql variable (:'pw_…' quotes it), never on a
  # command line.
  script+="\\set pw_$part '${password[$part]}'
CREATE ROLE $name LOGIN PASSWORD :'pw_$part';
GRANT $name TO CURRENT_USER;
CREATE DATABASE $name OWNER $name;
REVOKE ALL ON DATABASE $name FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE $name TO $name;
"
done
# CREATE DATABASE cannot run inside a transaction: each statement commits on its own.
psql_admin <<<"$script"

for part in "${parts[@]}"; do
  name="${prefix}_$part"
  printf 'postgres://%s:%s@%s/%s?%s' "$name" "${password[$part]}" "$host" "$name" "$options" >"$out/$name.url"
  echo "created role and database $name; its URL is in $out/$name.url"
done
