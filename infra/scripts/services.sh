#!/usr/bin/env bash
# Starts Debian's packaged PostgreSQL, RabbitMQ and Redis when they are not running (installing them with
# apt-get when run as root and they are missing). Safe to run again: running servers are left alone.
set -uo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && exec 3>&- 3<&-; }
wait_port() { for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 1; done; return 1; }
as_root() { [ "$(id -u)" = 0 ] && "$@"; }

if ! port_open 5432; then
  if ! ls /etc/postgresql >/dev/null 2>&1; then
    echo "PostgreSQL is not installed; installing Debian's package (postgresql)..."
    as_root apt-get update -qq && as_root apt-get install -y -qq postgresql || { echo "install PostgreSQL 15+ (apt-get install postgresql) and run this again"; exit 1; }
  fi
  version=$(ls /etc/postgresql | sort -V | tail -1)
  echo "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_port 5432 || { echo "PostgreSQL did not come up on 127.0.0.1:5432"; exit 1; }
fi

if ! port_open 5672; then
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    echo "RabbitMQ is not installed; installing Debian's package (rabbitmq-server)..."
    as_root apt-get update -qq && as_root apt-get install -y -qq rabbitmq-server || { echo "install RabbitMQ 3.10+ (apt-get install rabbitmq-server) and run this again"; exit 1; }
  fi
  echo "starting RabbitMQ"
  rabbitmq-server -detached || true
  wait_port 5672 || { echo "RabbitMQ did not come up on 127.0.0.1:5672"; exit 1; }
fi
if ! port_open 6379; then
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "Redis is not installed; installing Debian's package (redis-server)..."
    as_root apt-get update -qq && as_root apt-get install -y -qq redis-server || { echo "install Redis 7+ (apt-get install redis-server) and run this again"; exit 1; }
  fi
  echo "starting Redis"
  # Nothing the shop keeps in Redis needs to survive a restart (see subgraphs/kit/src/redis.ts).
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/shop.log || true
  wait_port 6379 || { echo "Redis did not come up on 127.0.0.1:6379"; exit 1; }
fi
echo "PostgreSQL (127.0.0.1:5432), RabbitMQ (127.0.0.1:5672) and Redis (127.0.0.1:6379) are running"
