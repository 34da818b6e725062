# session_bot images: one Dockerfile, one target (and so one image) per process.
#
#   docker build --target broker      -t session-bot/broker:dev .
#   docker build --target plugin-host -t session-bot/plugin-host:dev .
#   docker build --target gateway     -t session-bot/gateway:dev .
#   docker build --target devnet      -t session-bot/devnet:dev .      (offline Session network, dev only)
#
# All four share the `build` stage, so BuildKit compiles the workspace once; each final image
# holds only its own production dependencies (`pnpm deploy --prod`). Why one image per service and
# not one image for all: docs/deploy.md ("Images").
# Needs BuildKit (docker buildx, or DOCKER_BUILDKIT=1) for the cache mounts.

ARG NODE_IMAGE=node:24-bookworm-slim

# ---------------------------------------------------------------------------------------------
# build: toolchain for the native addon (better-sqlite3), pnpm from package.json, full workspace
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
ENV CI=true \
    PNPM_HOME=/pnpm \
    COREPACK_ENABLE_DOWNLOAD_PROMPT=0
ENV PATH=/pnpm:$PATH
# better-sqlite3 has no reachable prebuilt binary here: it compiles from source (python3, make, g++).
# The CA bundle is kept as the base image had it: if Debian's ca-certificates package came in as a
# dependency it would regenerate the bundle and drop a CA the base image trusts (a registry mirror's).
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean \
 && cp /etc/ssl/certs/ca-certificates.crt /tmp/ca-bundle.crt \
 && apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3 make g++ \
 && cp /tmp/ca-bundle.crt /etc/ssl/certs/ca-certificates.crt && rm /tmp/ca-bundle.crt
# node-gyp needs the Node.js headers (npm_config_nodedir, set only where pnpm builds addons: as a
# global ENV it makes `npm pack` hang). Official node images ship them in /usr/local/include/node;
# where the base image lacks them, take them from the npm registry's node-linux-<arch> package of
# the exact same version (node-gyp would otherwise download them from nodejs.org).
RUN if [ ! -f /usr/local/include/node/node.h ]; then \
      arch=$(node -p 'process.arch') && tmp=$(mktemp -d) && cd "$tmp" \
      && npm pack --loglevel=warn "node-linux-${arch}@${NODE_VERSION}" \
      && tar -xzf node-linux-*.tgz \
      && mkdir -p /usr/local/include && cp -r package/include/node /usr/local/include/ \
      && cd / && rm -rf "$tmp"; \
    fi
WORKDIR /src
# pnpm at the version pinned in package.json "packageManager".
COPY package.json ./
RUN corepack enable && corepack install
# Dependencies first (only the lockfile decides them), so a source change reuses this layer.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN --mount=type=cache,id=session-bot-pnpm-store,target=/pnpm/store \
    pnpm config set store-dir /pnpm/store && pnpm fetch --ignore-scripts
COPY . .
RUN --mount=type=cache,id=session-bot-pnpm-store,target=/pnpm/store \
    pnpm config set store-dir /pnpm/store \
 && npm_config_nodedir=/usr/local pnpm install --frozen-lockfile --offline \
      --filter "@session-bot/broker..." --filter "@session-bot/plugin-host..." \
      --filter "@session-bot/gateway..." --filter "@session-bot/devnet..."
# Builds each service and what it depends on (workspace packages, plugins), in dependency order.
RUN pnpm -r --filter "@session-bot/broker..." --filter "@session-bot/plugin-host..." \
      --filter "@session-bot/gateway..." --filter "@session-bot/devnet..." run build
# One self-contained folder per process: its dist/ plus production node_modules only, at the
# versions of the workspace lockfile (deploy without --legacy; workspace packages are injected).
RUN --mount=type=cache,id=session-bot-pnpm-store,target=/pnpm/store \
    pnpm config set store-dir /pnpm/store \
 && for svc in broker plugin-host gateway devnet; do \
      npm_config_nodedir=/usr/local pnpm --filter "@session-bot/${svc}" --config.inject-workspace-packages=true \
        deploy --prod --offline "/out/${svc}" || exit 1; \
    done \
 && node -e 'require("/out/broker/node_modules/better-sqlite3")(":memory:").close()'

# ---------------------------------------------------------------------------------------------
# runtime: slim base, tini as PID 1 (signals reach node, zombies reaped), non-root user
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ARG NODE_IMAGE
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean \
 && cp /etc/ssl/certs/ca-certificates.crt /tmp/ca-bundle.crt \
 && apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends tini \
 && cp /tmp/ca-bundle.crt /etc/ssl/certs/ca-certificates.crt && rm /tmp/ca-bundle.crt \
 && mkdir -p /data && chown 1000:1000 /data
COPY deploy/docker/healthcheck.mjs /usr/local/lib/session-bot/healthcheck.mjs
ENV NODE_ENV=production \
    LOG_LEVEL=info
WORKDIR /app
# uid 1000 = the base image's `node` user; numeric so Kubernetes can check runAsNonRoot.
USER 1000:1000
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.source="https://github.com/session-bot/session_bot" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.vendor="session_bot" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"

# ---------------------------------------------------------------------------------------------
# broker: the only holder of the bot's keys; SQLite database on the /data volume
# ---------------------------------------------------------------------------------------------
FROM runtime AS broker
# Files stay root-owned: the process can read its code but not change it.
COPY --from=build --chown=0:0 /out/broker /app
ENV BROKER_HTTP_HOST=0.0.0.0 \
    BROKER_HTTP_PORT=9101
VOLUME ["/data"]
EXPOSE 9101
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/usr/local/lib/session-bot/healthcheck.mjs", "BROKER_HTTP_PORT", "9101"]
LABEL org.opencontainers.image.title="session-bot broker" \
      org.opencontainers.image.description="Holds the bot's Session identity: Session network <-> NATS JetStream."

# ---------------------------------------------------------------------------------------------
# plugin-host: stateless plugin workers; scale 1..N
# ---------------------------------------------------------------------------------------------
FROM runtime AS plugin-host
COPY --from=build --chown=0:0 /out/plugin-host /app
ENV PLUGIN_HOST_HTTP_HOST=0.0.0.0 \
    PLUGIN_HOST_HTTP_PORT=9102
EXPOSE 9102
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/usr/local/lib/session-bot/healthcheck.mjs", "PLUGIN_HOST_HTTP_PORT", "9102"]
LABEL org.opencontainers.image.title="session-bot plugin-host" \
      org.opencontainers.image.description="Stateless workers that run the bot's plugins on JetStream events."

# ---------------------------------------------------------------------------------------------
# gateway: health, readiness, metrics, admin API and page
# ---------------------------------------------------------------------------------------------
FROM runtime AS gateway
COPY --from=build --chown=0:0 /out/gateway /app
ENV GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "/usr/local/lib/session-bot/healthcheck.mjs", "GATEWAY_PORT", "8080"]
LABEL org.opencontainers.image.title="session-bot gateway" \
      org.opencontainers.image.description="Operator's door: health, readiness, Prometheus metrics, admin REST API."

# ---------------------------------------------------------------------------------------------
# devnet: an offline Session network and the session-chat client (development and tests only)
# ---------------------------------------------------------------------------------------------
FROM runtime AS devnet
COPY --from=build --chown=0:0 /out/devnet /app
# The devnet binds loopback only (by design): run it in the network namespace of its client
# (compose: broker-net; Kubernetes: a sidecar of the broker pod). Seed 22100, file server 22101.
CMD ["node", "dist/cli/devnet.js", "--http", "--port", "22100", "--data-dir", "/data", "--persist"]
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "/usr/local/lib/session-bot/healthcheck.mjs", "DEVNET_FILE_SERVER_PORT", "22101", "/", "any"]
LABEL org.opencontainers.image.title="session-bot devnet" \
      org.opencontainers.image.description="Offline Session network (storage-server RPC + file server) for development and tests."
