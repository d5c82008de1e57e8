#!/usr/bin/env bash
# Runs the six Kutse services against the local stack (`make run` builds them and calls this).
# Logs are interleaved, each line labelled with its service; Ctrl-C stops them all.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin_dir=${KUTSE_BIN_DIR:-target/debug}

# shellcheck source=deploy/stack/env.sh
source deploy/stack/env.sh
export S3_ACCESS_KEY_ID S3_SECRET_ACCESS_KEY
export LOG_FORMAT=${LOG_FORMAT:-text}
export RUST_LOG=${RUST_LOG:-info,sqlx=warn}
# Each service defaults to its own database; a DATABASE_URL exported in this shell would point
# all six at one, so it is not passed on.
unset DATABASE_URL

# The TARA stand-in (its key in .local/dev-tara), whose ID tokens intake exchanges for Kutse
# access tokens; in production intake trusts TARA itself (TARA_ISSUER, TARA_JWKS_URL).
"$bin_dir/kutse-dev-token" init
# Development only: the register creates its sealing key in .local/register, and intake its
# access-token key in .local/tokens, on first start. Deployments mount both from secrets (see
# helm/kutse/README.md).
export REGISTER_SIGNING_KEY_GENERATE=true
export TOKEN_SIGNING_KEY_GENERATE=true
# The authority's people (Kutsekoda): the demo's is the one `make seed` logs in as.
export AUTHORITY_PERSONAL_CODES=${AUTHORITY_PERSONAL_CODES:-37605030299}

services=(intake:8081 documents:8082 assessment:8083 committee:8084 certificates:8085 notifications:8086)
pids=()

stop() {
  trap - INT TERM
  [ -n "${stopping:-}" ] && return
  stopping=1
  echo "[run] stopping services…" >&2
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  # The labelling seds print the services' last lines ("stopped") as they drain.
  sleep 0.2
  echo "[run] all services stopped" >&2
}
trap 'stop; exit 0' INT TERM

for entry in "${services[@]}"; do
  name=${entry%%:*}
  # Ctrl-C reaches every process of the terminal's group: the labelling sed ignores it, so it
  # lives to print what the service says while it shuts down, and ends when the service does.
  "$bin_dir/kutse-$name" > >(trap '' INT TERM; exec sed -u "s/^/[$name] /") 2>&1 &
  pids+=($!)
done

# Wait until every service reports ready, then print where they are.
for entry in "${services[@]}"; do
  name=${entry%%:*}; port=${entry##*:}
  for _ in $(seq 150); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" && break
    sleep 0.2
  done
done
echo "[run] services:" >&2
for entry in "${services[@]}"; do
  name=${entry%%:*}; port=${entry##*:}
  if curl -sf -o /dev/null "http://127.0.0.1:$port/readyz"; then state=ready; else state="NOT READY (see its log lines)"; fi
  printf '[run]   %-14s http://127.0.0.1:%s   %s\n' "$name" "$port" "$state" >&2
done
echo "[run] maildev inbox http://127.0.0.1:1080 · RabbitMQ management http://127.0.0.1:15672 · Ctrl-C stops" >&2

# Runs until Ctrl-C, or until a service exits on its own (then the rest are stopped too).
wait -n "${pids[@]}" || true
stop
