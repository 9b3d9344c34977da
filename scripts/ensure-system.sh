#!/usr/bin/env bash
# Make sure the OS packages and local services the project needs are present (idempotent).
# - pkg-config and the MySQL client headers build mysqlclient (the Airflow MySQL provider's driver);
# - MariaDB on 127.0.0.1:3306 stands in for MySQL 8; PostgreSQL (:5432) and Redis (:6379) serve `make up`;
# - chromium (Debian's) is the headless browser of the page tests (tests/browser, driven by Playwright).
set -euo pipefail

need_apt=()
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
dpkg -s default-libmysqlclient-dev >/dev/null 2>&1 || need_apt+=(default-libmysqlclient-dev)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "ensure-system: installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# port_open PORT: something listens on 127.0.0.1:PORT
port_open() { python3 -c 'import socket, sys; s = socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(("127.0.0.1", int(sys.argv[1]))) != 0)' "$1"; }

# ensure_service NAME PORT BINARY COMMAND...: start COMMAND unless PORT answers, then wait for it (60 s)
ensure_service() {
  local name=$1 port=$2 binary=$3; shift 3
  port_open "$port" && return 0
  if ! command -v "$binary" >/dev/null 2>&1 && [ ! -x "$binary" ]; then
    echo "ensure-system: $name is not installed and nothing answers on 127.0.0.1:$port" >&2
    exit 1
  fi
  echo "ensure-system: starting $name"
  "$@" || true
  for _ in $(seq 1 60); do port_open "$port" && return 0; sleep 1; done
  echo "ensure-system: $name did not come up on 127.0.0.1:$port" >&2
  exit 1
}

# MariaDB stands in for MySQL 8 (the demo, the tests, the stack); PostgreSQL holds the stack's Airflow metadata
# and Redis is its Celery broker (make up, tests/stack)
ensure_service MariaDB 3306 /usr/sbin/mariadbd start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
ensure_service PostgreSQL 5432 pg_ctlcluster bash -c 'pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start'
ensure_service Redis 6379 redis-server redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
  --dir /tmp --logfile /tmp/aerolake-redis.log
