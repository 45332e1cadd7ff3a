# Build stage: compile the release binary. Dependencies are built in their
# own layer first, so editing src/ does not rebuild them.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src
COPY src ./src
COPY config ./config
RUN touch src/main.rs src/lib.rs && cargo build --release --locked

# Run stage: a small image with only the binary and its default settings,
# running as an unprivileged user.
FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --no-create-home switchboard
WORKDIR /app
COPY --from=build /src/target/release/switchboard /usr/local/bin/switchboard
COPY config ./config
USER 10001
ENV PORT=3000 BIND_IP=0.0.0.0 SWITCHBOARD_ENV=production SWITCHBOARD_LOG__FORMAT=json
EXPOSE 3000
# `switchboard healthcheck` asks the local /readyz; no curl in the image.
HEALTHCHECK --interval=10s --timeout=6s --start-period=20s --retries=3 \
    CMD ["switchboard", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["switchboard"]
CMD ["serve"]
