# syntax=docker/dockerfile:1
# Multi-stage build: the Go toolchain builds a static binary; the runtime
# image holds only that binary, CA certificates (to fetch IdP metadata over
# https) and curl (for the container healthcheck).

FROM golang:1.26 AS build
WORKDIR /src
# Dependencies first, so that a change to the code reuses this layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Templates, static files and migrations are embedded in the binary.
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/portal ./cmd/portal

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin portal
COPY --from=build /out/portal /usr/local/bin/portal
USER portal
# Inside a container the metrics listener must not be on loopback only, or
# nothing outside can scrape it; publish port 9090 only to your monitoring.
ENV PORTAL_ADDR=:8080 \
    PORTAL_METRICS_ADDR=:9090
EXPOSE 8080 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["portal"]
CMD ["serve"]
