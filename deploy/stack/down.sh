#!/usr/bin/env bash
# Stops what deploy/stack/up.sh started on this machine, and nothing else: servers that were
# already running when up.sh came along are left alone. Data under .local/data stays.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
run_dir="$root/.local/run"
say() { printf '[stack] %s\n' "$*" >&2; }

stop_pid() { # name
  local file="$run_dir/$1.pid"
  [ -f "$file" ] || return 0
  local pid
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    say "stopping $1 (pid $pid)"
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$file"
}

stop_pid clamd
stop_pid maildev
stop_pid seaweedfs
if [ -f "$run_dir/rabbitmq.started" ]; then
  say "stopping RabbitMQ"
  rabbitmqctl -q stop >/dev/null 2>&1 || true
  rm -f "$run_dir/rabbitmq.started"
fi
if [ -f "$run_dir/postgres.started" ]; then
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  say "stopping PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main stop || true
  rm -f "$run_dir/postgres.started"
fi
