# syntax=docker/dockerfile:1
# Marquee: build with the toolchain, run without it, on Node 24 (the LTS the project targets).
# compose.yaml builds and runs it (`cp docker.env.example docker.env`, edit, `docker compose up -d`);
# without Compose:
#   docker build -t marquee .
#   docker run -d --name marquee -p 127.0.0.1:3000:3000 --env-file docker.env \
#     -v marquee-data:/app/data --restart unless-stopped marquee
# Not the systemd environment file: its HOST=127.0.0.1 leaves the container unreachable.

# --- build: compile TypeScript -------------------------------------------------------------
# better-sqlite3 13 carries prebuilt Node-API binaries (linux x64/arm64) in its package: no
# toolchain and no download.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# --- runtime: Node, production dependencies, compiled code, templates ----------------------
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATABASE_PATH=/app/data/marquee.db \
    BACKUP_DIR=/app/data/backups
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# package.json carries "type": "module", which the compiled ESM needs.
COPY package.json ./
COPY views ./views
# The database, its WAL and the backups live in one volume owned by the unprivileged user.
RUN mkdir -p /app/data/backups && chown -R node:node /app/data
USER node
VOLUME ["/app/data"]
EXPOSE 3000
# SIGTERM drains: acknowledged deliveries are processed within SHUTDOWN_TIMEOUT_SECONDS (8 s by
# default), inside Docker's 10 s stop timeout.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--max-semi-space-size=16", "--heap-growing-percent=25", "dist/main.js"]
