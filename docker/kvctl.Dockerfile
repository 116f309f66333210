# syntax=docker/dockerfile:1
# kvctl: the operator CLI (status, stream info, lookup, dump, explain, tail, hash) as a tools image.
# Build from the repository root: docker build -f docker/kvctl.Dockerfile -t kv-router/kvctl:dev .

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
ENV NODE_ENV=production \
    KVR_NO_BUILD=1
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
USER node
# A one-shot command: nothing stays up to be probed.
HEALTHCHECK NONE
ENTRYPOINT ["node", "tools/bin/kvctl.js"]
CMD ["status"]
