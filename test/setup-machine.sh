#!/usr/bin/env bash
# Prepares a Debian 12 machine for the test suite; idempotent, and quick when all is in place.
# Installs the system tools the integration tests run for real, makes sure RabbitMQ answers on
# 127.0.0.1:5672, and installs node_modules when missing or older than package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian package -> a file it installs.
declare -A PACKAGES=(
  [docker-registry]=/usr/bin/docker-registry
  [skopeo]=/usr/bin/skopeo
  [nginx-light]=/usr/sbin/nginx
  [rsync]=/usr/bin/rsync
  [openssl]=/usr/bin/openssl
  [time]=/usr/bin/time
  [bsdutils]=/usr/bin/script
  [ansible-core]=/usr/bin/ansible-playbook
  [ansible-lint]=/usr/bin/ansible-lint
  [rabbitmq-server]=/usr/sbin/rabbitmq-server
  [chromium]=/usr/bin/chromium
)

missing=()
for package in "${!PACKAGES[@]}"; do
  [[ -e ${PACKAGES[$package]} ]] || missing+=("$package")
done

if ((${#missing[@]})); then
  if ((EUID != 0)); then
    echo "setup-machine: missing ${missing[*]}; run this script as root to install them" >&2
    exit 1
  fi
  echo "setup-machine: installing ${missing[*]}"
  # Keep the packages' own services (registry on :5000, nginx on :80) from starting during the
  # install: tests run their own instances with their own configs and ports.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Services that did start anyway (an earlier install without the policy) are stopped.
if ((EUID == 0)); then
  for service in docker-registry nginx; do
    if [[ -x /etc/init.d/$service ]] && /etc/init.d/$service status >/dev/null 2>&1; then
      /etc/init.d/$service stop >/dev/null 2>&1 || true
    fi
  done
fi

amqp_up() { timeout 1 bash -c '</dev/tcp/127.0.0.1/5672' 2>/dev/null; }
if ! amqp_up; then
  echo "setup-machine: starting RabbitMQ"
  rabbitmq-server -detached
  for _ in $(seq 120); do
    amqp_up && break
    sleep 1
  done
  amqp_up || { echo "setup-machine: RabbitMQ does not answer on 127.0.0.1:5672" >&2; exit 1; }
fi

# npm writes node_modules/.package-lock.json on every install; older than the lock file means stale.
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup-machine: npm ci"
  npm ci --no-audit --no-fund
fi
