# gatehouse: multi-stage build; the runtime image has production dependencies only and runs as a non-root user.
# No HEALTHCHECK: probe the gRPC health service (grpc.health.v1.Health) or GET /healthz and /readyz on the http port.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY proto ./proto
COPY src ./src
RUN npx tsc -p tsconfig.build.json

FROM node:22-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:22-bookworm-slim
ENV NODE_ENV=production
# V8's heap bound for a 512 MiB container (deploy/kubernetes/base/deployment.yaml sets the same): half the memory limit.
ENV NODE_OPTIONS=--max-old-space-size=256
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY proto ./proto
COPY package.json ./
USER node
# gRPC (AuthService, health, reflection) and HTTP (/metrics, /healthz, /readyz).
EXPOSE 50051 9464
ENTRYPOINT ["node", "dist/src/cli/gatehouse.js"]
CMD ["serve", "--config", "/etc/gatehouse/gatehouse.yaml"]
