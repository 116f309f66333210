#!/usr/bin/env bash
# Installs the Debian packages the tests and the demo need, when any is missing:
#   redis-server, nats-server        real servers for integration tests and the demo
#   openssl                          certificates for the TLS tests (Kubernetes discovery over HTTPS)
#   python3-zmq, python3-msgpack,    independent vLLM-style publishers and golden fixtures
#   python3-cbor2, python3-jinja2,   (always run with /usr/bin/python3)
#   python3-prometheus-client        the reference Prometheus text parser for /metrics tests
# Needs root or passwordless sudo when something is missing; does nothing otherwise.
set -euo pipefail

missing=()
have_bin() { command -v "$1" >/dev/null 2>&1 || [[ -x "/usr/sbin/$1" ]] || [[ -x "/usr/bin/$1" ]]; }
have_py() { [[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c "import $1" >/dev/null 2>&1; }

have_bin redis-server || missing+=(redis-server)
have_bin nats-server || missing+=(nats-server)
have_bin openssl || missing+=(openssl)
have_py zmq || missing+=(python3-zmq)
have_py msgpack || missing+=(python3-msgpack)
have_py cbor2 || missing+=(python3-cbor2)
have_py jinja2 || missing+=(python3-jinja2)
have_py prometheus_client || missing+=(python3-prometheus-client)

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "system packages missing: ${missing[*]}; installing with apt-get" >&2
if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo -n)
else
  echo "cannot install ${missing[*]}: not root and no sudo. Run: apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq || echo "apt-get update failed; trying the install with the package lists at hand" >&2
if "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  echo "installed: ${missing[*]}" >&2
  exit 0
fi
# One package the distribution lacks must not keep the others out: install them one by one.
failed=()
for package in "${missing[@]}"; do
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$package" >/dev/null 2>&1 || failed+=("$package")
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "could not install: ${failed[*]}" >&2
  exit 1
fi
echo "installed: ${missing[*]}" >&2
