#!/usr/bin/env bash
# npm run bench:setup — what the benchmark needs beyond npm install: nats-server (Debian's package)
# for the NATS JetStream Object Store baseline. The harness starts its own instance on a free
# loopback port; without nats-server it skips that baseline and says so.
set -euo pipefail
if command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ]; then
  echo "nats-server present: $( (command -v nats-server || echo /usr/sbin/nats-server) | xargs -I{} {} --version)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update
$SUDO apt-get install -y nats-server
