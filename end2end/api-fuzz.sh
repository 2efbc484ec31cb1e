#!/usr/bin/env bash
# Fuzzes the REST API's read-only operations from its OpenAPI document (schemathesis): no
# answer may be a 5xx, and every answer must match the document. Runs its own server on
# loopback with a fresh SQLite database, signs up (following the verification link the
# server writes to its outbox), makes a workspace and a viewer key, and calls every GET
# operation with that key. Usage: api-fuzz.sh SERVER_BIN OPENAPI_JSON PORT
set -euo pipefail
server_bin=$1 openapi=$2 port=$3
base="http://127.0.0.1:${port}"
data=$(mktemp -d)
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$data"' EXIT
SWITCHYARD_ADDR="127.0.0.1:${port}" DATA_DIR="$data" SITE_ROOT=target/site RUST_LOG=warn \
  AUTH_ATTEMPTS_PER_IP_PER_MINUTE=1000 "$server_bin" > target/api-fuzz-server.log 2>&1 &
server=$!
for _ in $(seq 1 60); do curl -fsS -o /dev/null "$base/health/live" && break; sleep 0.5; done
json=(-fsS -H 'content-type: application/json' -H "origin: $base" -b "$data/cookies" -c "$data/cookies")
curl "${json[@]}" -d '{"email":"fuzz@example.com","password":"correct horse battery","name":"Fuzz"}' \
  "$base/api/v1/auth/signup" > /dev/null
token=""
for _ in $(seq 1 50); do
  token=$(cat "$data"/outbox/*.eml 2>/dev/null | grep -o 'verify-email?token=[A-Za-z0-9_-]*' | head -1 | cut -d= -f2 || true)
  [ -n "$token" ] && break
  sleep 0.1
done
curl "${json[@]}" -d "{\"token\":\"$token\",\"password\":\"correct horse battery\"}" \
  "$base/api/v1/auth/verify-email" > /dev/null
curl "${json[@]}" -d '{"slug":"fuzz","name":"Fuzz"}' "$base/api/v1/workspaces" > /dev/null
key=$(curl "${json[@]}" -d '{"name":"fuzz","role":"viewer"}' "$base/api/v1/workspaces/fuzz/api-keys" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])')
schemathesis run "$openapi" --url "$base" --include-method GET -H "Authorization: Bearer $key" \
  --checks not_a_server_error,response_schema_conformance -n 20 --generation-deterministic \
  --request-timeout 10 -w 2
