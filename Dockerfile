# syntax=docker/dockerfile:1
# HRIS Gateway image: the API server (default) or the sync worker (ROLE=worker), against an external
# PostgreSQL 15+ given as DATABASE_URL. Build: docker build -t hris-gateway .
# The image does not use the embedded PostgreSQL (its binaries are not prepared here): set DATABASE_URL.

ARG NODE_VERSION=20.20

# ---- build: all dependencies, the generated Prisma client, and the compiled dist/ ----
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the node image's npm 10 does not honour package.json "allowScripts" (npm 11), and
# the Prisma packages' install scripts would try to download engines the client does not need
# (Prisma 7 with @prisma/adapter-pg runs without an engine binary).
RUN npm ci --ignore-scripts
COPY prisma ./prisma
COPY prisma.config.ts ./
COPY scripts ./scripts
# `prisma generate` never runs the schema engine, but the CLI insists on a path to one; the script
# points PRISMA_SCHEMA_ENGINE_BINARY at the node binary (any existing file will do).
RUN node scripts/prisma-generate.js
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies, dist/, and the SQL migrations ----
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
# Applied at start-up by dist/db/migrate.js, which finds them at ../../prisma/migrations (= /app/prisma/migrations).
COPY prisma/migrations ./prisma/migrations
# The operator CLI (`docker compose exec gateway npx hris ...`) runs the TypeScript sources through tsx.
COPY --from=build /app/src ./src
COPY bin ./bin
COPY tsconfig.json ./
USER node
EXPOSE 3000
# /health is liveness only (no database); a worker (ROLE=worker) does not listen, so compose turns
# the check off for it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Plain node (not npm) as PID 1's child-free process, so SIGTERM reaches the gateway's graceful shutdown.
CMD ["node", "dist/server.js"]
