#!/usr/bin/env bash
# Property-based contract run: schemathesis drives the real binary, on a
# fresh PostgreSQL database, from the OpenAPI document the binary serves.
# Every response must be no 5xx, documented, and match its schema.
#   GARAGE_BIN        the binary (target/debug/garage)
#   CONTRACT_EXAMPLES cases per operation and phase (60)
#   CONTRACT_SEED     the generator's seed (fixed, so a failure replays; `random` for a new one)
set -euo pipefail
cd "$(dirname "$0")/.."

admin_url="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
binary="${GARAGE_BIN:-target/debug/garage}"
examples="${CONTRACT_EXAMPLES:-60}"
seed="${CONTRACT_SEED:-20261126}"
command -v schemathesis >/dev/null || { echo "schemathesis is missing: pip install 'schemathesis==4.32.5'"; exit 1; }

db="garage_contract_$$"
work="$(mktemp -d)"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  psql "$admin_url" -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

psql "$admin_url" -v ON_ERROR_STOP=1 -q -c "CREATE DATABASE $db"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
# An admin key, so every operation (key management too) is exercised; the
# generator's bad credentials get 401s, not a failure budget's 429s.
key="contract-admin-key-0123456789abcdef"
DATABASE_URL="${admin_url%/*}/$db" APP__SERVER__PORT="$port" APP__LOG__LEVEL=warn \
  APP__AUTH__API_KEYS="$key" APP__RATE_LIMIT__FAILED_SIGN_INS_PER_MINUTE=0 \
  APP__RATE_LIMIT__PER_SECOND=0 APP__SERVER__STATIC_DIR="$work/no-ui" \
  "$binary" >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fsS "$base/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done

# A garage and a vehicle, so that ids 1 exist and reads of them succeed.
curl -fsS -o /dev/null -H 'content-type: application/json' -H "authorization: Bearer $key" \
  -d '{"name":"Contract","address":"1 rue du Schéma","capacity":1000}' "$base/api/v1/garages"
curl -fsS -o /dev/null -H 'content-type: application/json' -H "authorization: Bearer $key" \
  -d '{"garage_id":1,"brand":"Renault","model":"Clio","year":2020,"license_plate":"CT-001","vin":"VF1RFB00X12345678"}' \
  "$base/api/v1/vehicles"

seed_args=(--seed "$seed")
[ "$seed" = random ] && seed_args=()
status=0
# Run from the scratch directory: schemathesis and hypothesis keep caches in the working directory.
cd "$work"
schemathesis run "$base/api/v1/openapi.json" --url "$base" --header "Authorization: Bearer $key" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing --max-examples "$examples" "${seed_args[@]}" \
  --workers 2 --request-timeout 10 --no-color --generation-database none \
  --report junit --report-dir report || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log ---"; tail -n 50 "$work/server.log"
fi
exit "$status"
