# syntax=docker/dockerfile:1
# HRIS Gateway image: the API server (ROLE=api), the sync worker (ROLE=worker) or both (ROLE=all, the
# default), against an external PostgreSQL 15+ given as DATABASE_URL.
#   docker build -t hris-gateway .
#   docker run -e DATABASE_URL=postgresql://... -e ENCRYPTION_KEY=$(openssl rand -base64 32) -p 3000:3000 hris-gateway
# The image does not prepare the embedded PostgreSQL (its package's install script is skipped): set DATABASE_URL.
#
# It runs the TypeScript sources with tsx rather than a tsc build: the gateway reads files beside its
# modules at run time (the connect page's assets under src/connect/assets, prisma/migrations relative
# to src/db/migrate.ts), and tsc's dist/ carries only the compiled .js files.

ARG NODE_VERSION=20.20

# ---- build: dev dependencies (Prisma CLI) to generate the Prisma client into src/generated ----
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the node image's npm 10 does not honour package.json "allowScripts" (npm 11), and
# the Prisma packages' install scripts would try to download engines the client does not need
# (Prisma 7 with @prisma/adapter-pg runs without an engine binary). The one install step we need,
# `prisma generate`, runs explicitly below.
RUN npm ci --ignore-scripts
COPY prisma ./prisma
COPY prisma.config.ts ./
COPY scripts ./scripts
COPY src ./src
# `prisma generate` never runs the schema engine, but the CLI insists on a path to one: the script
# points PRISMA_SCHEMA_ENGINE_BINARY at the node binary (any existing file will do).
RUN node scripts/prisma-generate.js

# ---- runtime: production dependencies (tsx included), sources with the generated client, migrations ----
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY tsconfig.json ./
COPY bin ./bin
# Applied at start-up by src/db/migrate.ts, which finds them at ../../prisma/migrations (= /app/prisma/migrations).
COPY prisma ./prisma
COPY --from=build /app/src ./src
USER node
EXPOSE 3000
# /health is liveness only (no database: a database outage should not restart the container); /ready
# checks the database. A worker (ROLE=worker) does not listen, so compose turns the check off for it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node itself (not npm) as the container's process, so SIGTERM reaches the gateway's graceful shutdown.
# The operator CLI: docker compose exec gateway node bin/hris.js platform create --name "My platform"
CMD ["node", "--import", "tsx", "src/server.ts"]
