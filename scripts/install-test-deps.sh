#!/usr/bin/env bash
# Installs the real Prometheus parts the tests run against, from Debian's
# packages, when they are missing: promtool and prometheus (package
# prometheus) and alertmanager (package prometheus-alertmanager).
set -euo pipefail

missing=()
command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || command -v alertmanager >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "install-test-deps: missing ${missing[*]}; install them with apt-get as root (Debian's packages)" >&2
	exit 1
fi
echo "install-test-deps: installing ${missing[*]} with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The packages try to start their services; with no init system that fails
# harmlessly, and the tests start their own.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
command -v promtool >/dev/null && command -v prometheus >/dev/null
command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null
