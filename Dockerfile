# baler worker image. The entrypoint is `baler`; the command picks the role:
#   docker run IMAGE source            (container form: configured by SQS_QUEUE_URL, BUCKET, ... see docs/OPERATIONS.md)
#   docker run IMAGE target
#   docker run IMAGE convert --queue ...
# Build for both architectures with `docker buildx build --platform linux/amd64,linux/arm64 .`: every stage runs
# on the target platform, so the native modules (zstd-napi, built from source by node-gyp; DuckDB's prebuilt
# binding) match it. docs/DEPLOYMENT.md has the details.

# Node.js LTS on Debian 12 (the distribution CI tests on). The two build stages start alike (Docker shares
# their layers); node-gyp needs python3, make and a C++ compiler to build zstd-napi.

# Compile TypeScript with the dev dependencies.
FROM node:22-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies only, native modules built here for the target platform.
FROM node:22-bookworm-slim AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# The runtime: no compiler, no dev dependencies, no sources.
FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN ln -s /app/dist/cli.js /usr/local/bin/baler \
 && chmod 0755 /app/dist/cli.js
# The image's own unprivileged user (uid 1000); the workers write nothing to disk.
USER node
ENTRYPOINT ["baler"]
CMD ["--help"]
