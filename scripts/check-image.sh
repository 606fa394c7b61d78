#!/usr/bin/env bash
# Runs the Dockerfile's steps without Docker, on a fresh clone of HEAD, in a temp directory (`npm run check-image`):
#   build stage:   only the files the Dockerfile COPYs; npm ci; node scripts/fetch-models.mjs; npm run build
#   runtime stage: package files + .npmrc; npm ci --omit=dev; dist/ and models/ from the build stage
# then, in the runtime directory with NODE_ENV=production and only the documented variables:
#   - node dist/main.js without its secrets must refuse to start and name them,
#   - node dist/src/cli/migrate.js migrates a scratch database,
#   - node dist/main.js answers /healthz and /readyz (offline providers: Moonshine from models/, espeak-ng, Silero),
#     the image's HEALTHCHECK command exits 0, and SIGTERM stops it with exit 0,
#   - node dist/workers/main.js starts its workers and stops on SIGTERM with exit 0.
# Needs PostgreSQL and Redis (CHECK_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/callcenter_check_image;
# REDIS_URL, default redis://127.0.0.1:6379) and espeak-ng. Weights already in models/ are copied in first (the fetch
# then only verifies their sha256); KEEP=1 keeps the temp directory. Not part of `npm test` (≈ 1–2 min, downloads).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TMP="$(mktemp -d /tmp/check-image.XXXXXX)"
SERVER_PID=""
WORKER_PID=""
log() { echo "[check-image] $*" >&2; }
cleanup() {
  for pid in $SERVER_PID $WORKER_PID; do kill "$pid" 2>/dev/null || true; done
  # The BullMQ keys of this run's private queue prefix.
  if command -v redis-cli >/dev/null; then
    redis-cli -u "${REDIS_URL:-redis://127.0.0.1:6379}" --scan --pattern "check-image-$$:*" | xargs -r redis-cli -u "${REDIS_URL:-redis://127.0.0.1:6379}" del >/dev/null || true
  fi
  if [ "${KEEP:-}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
fail() { log "FAILED: $*"; exit 1; }
export SCARF_ANALYTICS=false npm_config_audit=false npm_config_fund=false
started=$SECONDS

log "fresh clone of $(git -C "$ROOT" rev-parse --short HEAD) into $TMP"
git clone --quiet "$ROOT" "$TMP/clone"

# --- build stage (same COPY lines as the Dockerfile) ---
B="$TMP/build"
mkdir -p "$B/scripts" "$B/src/providers/stt"
cd "$TMP/clone"
cp package.json package-lock.json .npmrc "$B/"
log "build stage: npm ci"
(cd "$B" && npm ci --silent)
cp scripts/fetch-models.mjs "$B/scripts/"
cp src/providers/stt/moonshine-models.json "$B/src/providers/stt/"
[ -d "$ROOT/models" ] && cp -r "$ROOT/models" "$B/models"
log "build stage: fetch-models"
(cd "$B" && node scripts/fetch-models.mjs)
cp tsconfig.json tsconfig.build.json "$B/"
cp scripts/build.mjs "$B/scripts/"
cp -r src workers migrations twiml web "$B/"
log "build stage: npm run build"
t0=$SECONDS
(cd "$B" && npm run --silent build)
log "build stage: built in $((SECONDS - t0)) s"

# --- runtime stage ---
R="$TMP/runtime"
mkdir -p "$R"
cp package.json package-lock.json .npmrc "$R/"
log "runtime stage: npm ci --omit=dev"
(cd "$R" && NODE_ENV=production npm ci --omit=dev --silent \
  && find node_modules/onnxruntime-node/bin -mindepth 2 -maxdepth 2 -type d ! -name linux -exec rm -rf {} +)
cp -r "$B/dist" "$B/models" "$R/"
for dev in typescript tsx jest ts-jest eslint; do [ ! -e "$R/node_modules/$dev" ] || fail "dev dependency $dev in the runtime stage"; done
log "runtime stage: $(du -sh "$R/node_modules" | cut -f1) node_modules, $(du -sh "$R/dist" | cut -f1) dist"

# --- run it as the image does ---
cd "$R"
PORT="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
PROD_ENV=(
  NODE_ENV=production PORT="$PORT" LOG_LEVEL=warn
  PUBLIC_BASE_URL=https://voice.example.com
  DATABASE_URL="${CHECK_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/callcenter_check_image}"
  REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
  QUEUE_PREFIX="check-image-$$"
  TWILIO_ACCOUNT_SID=AC0123456789abcdef0123456789abcdef
  TWILIO_AUTH_TOKEN=check-image-twilio-token
  API_KEY=check-image-api-key-0123456789
  SESSION_SECRET=check-image-session-secret-0123456789abcdef
  METRICS_TOKEN=check-image-metrics-token-0123
)

log "without secrets, NODE_ENV unset: must refuse to start"
if out="$(env -i PATH="$PATH" HOME="$HOME" node dist/main.js 2>&1)"; then fail "started without secrets"; fi
for v in API_KEY SESSION_SECRET TWILIO_AUTH_TOKEN DATABASE_URL PUBLIC_BASE_URL; do grep -q "$v" <<<"$out" || fail "the refusal does not name $v: $out"; done
grep -q dev-api-key <<<"$out" && fail "the refusal echoes a default"

log "migrate: node dist/src/cli/migrate.js"
env -i PATH="$PATH" HOME="$HOME" "${PROD_ENV[@]}" node dist/src/cli/migrate.js

log "server: node dist/main.js on port $PORT"
env -i PATH="$PATH" HOME="$HOME" "${PROD_ENV[@]}" node dist/main.js >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
ready=""
for _ in $(seq 1 120); do
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server.log" >&2; fail "the server exited"; }
  if body="$(node -e "fetch('http://127.0.0.1:$PORT/readyz').then(async (r) => { console.log(r.status, await r.text()); process.exit(r.ok ? 0 : 1) }, () => process.exit(1))" 2>/dev/null)"; then ready="$body"; break; fi
  sleep 1
done
[ -n "$ready" ] || { cat "$TMP/server.log" >&2; fail "/readyz never answered 200"; }
log "/readyz: $ready"
health="$(node -e "fetch('http://127.0.0.1:$PORT/healthz').then(async (r) => console.log(r.status, await r.text()))")"
log "/healthz: $health"
[[ "$health" == 200* ]] || fail "/healthz: $health"
hc="$(sed -n 's/^  CMD \["node", "-e", "\(.*\)"\]$/\1/p' "$TMP/clone/Dockerfile")"
[ -n "$hc" ] || fail "no HEALTHCHECK command found in the Dockerfile"
PORT="$PORT" node -e "$hc" || fail "the HEALTHCHECK command failed"
log "HEALTHCHECK command: exit 0"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || fail "the server exited $? on SIGTERM"
SERVER_PID=""
log "server: SIGTERM → exit 0"

log "worker: node dist/workers/main.js"
env -i PATH="$PATH" HOME="$HOME" "${PROD_ENV[@]}" LOG_LEVEL=info node dist/workers/main.js >"$TMP/worker.log" 2>&1 &
WORKER_PID=$!
for _ in $(seq 1 60); do grep -q 'workers started' "$TMP/worker.log" && break; kill -0 "$WORKER_PID" 2>/dev/null || break; sleep 1; done
grep -q 'workers started' "$TMP/worker.log" || { cat "$TMP/worker.log" >&2; fail "the worker did not start"; }
kill -TERM "$WORKER_PID"
wait "$WORKER_PID" || fail "the worker exited $? on SIGTERM"
WORKER_PID=""
log "worker: SIGTERM → exit 0"
log "OK in $((SECONDS - started)) s"
