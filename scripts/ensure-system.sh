#!/usr/bin/env bash
# Make sure the OS packages and local services the project needs are present (idempotent).
# - pkg-config and the MySQL client headers build mysqlclient (the Airflow MySQL provider's driver);
# - MariaDB on 127.0.0.1:3306 stands in for MySQL 8 in the demo and the tests;
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

mysql_up() { python3 - <<'PY'
import socket, sys
s = socket.socket(); s.settimeout(1)
try:
    s.connect(("127.0.0.1", 3306))
except OSError:
    sys.exit(1)
PY
}
if ! mysql_up; then
  echo "ensure-system: starting MariaDB"
  if command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; then
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
  else
    echo "ensure-system: MariaDB/MySQL is not installed and not answering on 127.0.0.1:3306" >&2
    exit 1
  fi
  for _ in $(seq 1 60); do mysql_up && break; sleep 1; done
  mysql_up || { echo "ensure-system: MariaDB did not come up on 127.0.0.1:3306" >&2; exit 1; }
fi
