# Build stage: compile the release binary.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY config ./config
RUN cargo build --release --locked

# Run stage: a small image with only the binary and its default settings.
FROM debian:bookworm-slim
RUN useradd --system --uid 10001 switchboard
WORKDIR /app
COPY --from=build /src/target/release/switchboard /usr/local/bin/switchboard
COPY config ./config
USER switchboard
ENV PORT=3000 BIND_IP=0.0.0.0 SWITCHBOARD_ENV=production
EXPOSE 3000
CMD ["switchboard"]
