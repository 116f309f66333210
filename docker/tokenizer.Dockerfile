# syntax=docker/dockerfile:1
# kvr tokenizer: the tokenizer service (llm-d UDS protocol) on a unix socket, Qwen3 built in.
# Build from the repository root: docker build -f docker/tokenizer.Dockerfile -t kv-router/tokenizer:dev .

# Build stage: the workspace with its dev dependencies, compiled to dist/ by the script `npm ci`
# runs as prepare. Install scripts are skipped because prepare would compile before the sources
# are here; the compile runs explicitly once they are.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json ./
COPY tools/bin ./tools/bin
COPY libs ./libs
COPY apps ./apps
RUN node tools/bin/build.js --force

# Runtime stage: production dependencies, the compiled dist/, and what tools/bin/launch.js and the
# apps read at run time (tsconfig.base.json maps the @kvr/* aliases; the gRPC .proto files).
FROM node:20-bookworm-slim AS runtime
# KVR_NO_BUILD: dist/ is final here and there is no compiler in the image.
# Listen on every interface: a container's loopback is unreachable from other containers.
# --max-semi-space-size=64: fewer, cheaper scavenges on the request path (see SERVICE_V8_FLAGS in
# libs/local-servers/src/app-process.ts for the measurement); a NODE_OPTIONS set at run time replaces it.
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=64 \
    KVR_NO_BUILD=1 \
    KVR_PROBE_HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: no install script is needed at run time. zeromq ships prebuilt addons for
# linux x64/arm64 glibc in its package; its script only checks that one loads, else compiles
# libzmq from source, which this image has no toolchain for.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY tsconfig.base.json ./
COPY tools/bin ./tools/bin
COPY libs/contracts/proto ./libs/contracts/proto
COPY docker/healthcheck.js ./docker/
COPY --from=build /src/dist ./dist
# The tokenizer's unix socket lives here, on a volume shared by gateway and tokenizer; a named
# volume takes the owner of this directory, so the unprivileged user can create and reach it.
RUN mkdir -p /tmp/tokenizer && chown node:node /tmp/tokenizer
USER node
EXPOSE 8082
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --start-interval=2s --retries=3 CMD ["node", "docker/healthcheck.js", "tokenizer"]
ENTRYPOINT ["node", "tools/bin/kvr.js"]
CMD ["tokenizer"]
