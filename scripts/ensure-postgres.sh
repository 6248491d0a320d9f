#!/bin/sh
# Make sure the local PostgreSQL server runs, create a throw-away database, print its URL.
#
#   FEEDBACK_TEST_PG_URL=$(scripts/ensure-postgres.sh)   # .ci/run does this
#   scripts/ensure-postgres.sh --drop URL               # drop it again afterwards
#
# The server: the Debian/Ubuntu cluster under /etc/postgresql (started with pg_ctlcluster if
# it is down), reached at 127.0.0.1:5432 as user postgres (trust auth on loopback).
# Environment: PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres). Messages go to stderr;
# stdout carries only the URL, so command substitution works.
set -eu

host=${PGHOST:-127.0.0.1}
port=${PGPORT:-5432}
user=${PGUSER:-postgres}

say() { echo "ensure-postgres: $*" >&2; }

if [ "${1:-}" = "--drop" ]; then
    url=${2:?usage: ensure-postgres.sh --drop URL}
    name=${url##*/}
    name=${name%%\?*}
    case $name in feedback_ci_*) ;; *) say "refusing to drop $name (not feedback_ci_*)"; exit 2 ;; esac
    psql -h "$host" -p "$port" -U "$user" -d postgres -qAtc "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >&2
    say "dropped $name"
    exit 0
fi

ready() { pg_isready -q -h "$host" -p "$port" -U "$user" >/dev/null 2>&1; }

if ! ready; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
        version=$(ls /etc/postgresql | sort -V | tail -n 1)
        say "starting PostgreSQL $version/main"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
    else
        say "no server answers at $host:$port and no pg_ctlcluster to start one"
        exit 1
    fi
    i=0
    until ready; do
        i=$((i + 1))
        if [ "$i" -ge 60 ]; then
            say "PostgreSQL did not become ready in 30 s"
            exit 1
        fi
        sleep 0.5
    done
fi

name="feedback_ci_$(date +%Y%m%d%H%M%S)_$$"
psql -h "$host" -p "$port" -U "$user" -d postgres -qAtc "CREATE DATABASE \"$name\"" >&2
say "created database $name"
echo "postgresql://$user@$host:$port/$name"
