# The Kiln server image, built from source (what `docker compose up` builds by default).
# Kiln drives the host's Docker engine through its socket and shares a host directory with
# the function containers; docker-compose.yml sets both up. Every base is a build argument, so
# a machine without a registry can use local images (the compose test does, with
# Dockerfile.prebuilt).
ARG BUILD_IMAGE=node:20-bookworm
# The runtime base needs glibc's `ldd` (and bash): the server runs it to bundle node for
# Lambda-format containers. Debian's node images have both.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Install scripts off: the dev dependency aws-lambda-ric (a test peer) would build curl with
# cmake. The server's one native module is built (or its prebuilt binary fetched) after.
RUN npm ci --no-audit --no-fund --ignore-scripts && npm rebuild better-sqlite3
# One COPY per folder (tsconfig.json compiles all of them); a single `COPY . .` would bring
# the context's node_modules over the fresh one.
COPY tsconfig.json ./
COPY api api
COPY agent agent
COPY drivers drivers
COPY store store
COPY migrations migrations
COPY images images
COPY cli cli
COPY runtime runtime
COPY web web
COPY test test
COPY bench bench
COPY scripts scripts
RUN npm run build && rm -rf dist/test dist/bench dist/scripts && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
WORKDIR /opt/kiln
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/dist dist
ENV NODE_ENV=production FN_PORT=8080
EXPOSE 8080
CMD ["node", "dist/api/main.js"]
