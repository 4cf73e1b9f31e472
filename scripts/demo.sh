#!/usr/bin/env bash
# Runs the exporter against the built-in fake DataRobot API: a license 30
# days from expiry with 3 feature flags. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

FAKE_ADDR=${FAKE_ADDR:-127.0.0.1:9919}
LISTEN=${LISTEN:-:9918}

make --no-print-directory build
go build -o fake-datarobot-api ./cmd/fake-datarobot-api

./fake-datarobot-api --listen-address "$FAKE_ADDR" --token demo-token --expires-in 720h --feature-flags 3 &
fake=$!
trap 'kill $fake 2>/dev/null || true' EXIT INT TERM

echo "Metrics: http://localhost:${LISTEN##*:}/metrics" >&2
DATAROBOT_ENDPOINT="http://$FAKE_ADDR/api/v2" DATAROBOT_API_TOKEN=demo-token \
	./datarobot_license_exporter --web.listen-address "$LISTEN" --collector.deployments "$@"
