# syntax=docker/dockerfile:1
# The garage service with its web UI: multi-stage, dependencies cached in
# their own layer, a small non-root runtime image.

FROM node:20-bookworm-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM rust:1.95-bookworm AS build
WORKDIR /src
# Dependencies first, built against stub sources: this layer is reused until
# Cargo.toml or Cargo.lock change.
COPY Cargo.toml Cargo.lock ./
COPY crates/domain/Cargo.toml crates/domain/
COPY crates/infra/Cargo.toml crates/infra/
COPY crates/api/Cargo.toml crates/api/
COPY crates/app/Cargo.toml crates/app/
RUN for crate in domain infra api app; do mkdir -p crates/$crate/src && touch crates/$crate/src/lib.rs; done \
    && echo 'fn main() {}' > crates/app/src/main.rs \
    && cargo build --release --locked --bin garage \
    && rm -rf crates/*/src
COPY migrations migrations
COPY crates crates
# Newer mtimes than the stubs', so cargo rebuilds the project's own crates.
RUN find crates -name '*.rs' -exec touch {} + \
    && cargo build --release --locked --bin garage

FROM debian:bookworm-slim
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 libsqlite3-0 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin garage \
    && mkdir -p /app/data \
    && chown garage /app/data
WORKDIR /app
COPY --from=build /src/target/release/garage /usr/local/bin/garage
COPY --from=web /web/dist /app/web/dist
ENV APP__SERVER__HOST=0.0.0.0 \
    APP__SERVER__PORT=8080 \
    APP__SERVER__STATIC_DIR=/app/web/dist \
    APP__LOG__FORMAT=json \
    DATABASE_URL=sqlite:///app/data/garage.db
USER 10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["curl", "-fsS", "http://127.0.0.1:8080/health/live"]
ENTRYPOINT ["garage"]
