# syntax=docker/dockerfile:1
# Build: a static binary (modernc SQLite needs no cgo).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/gadget ./cmd/gadget

# Run: distroless, non-root.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gadget /usr/local/bin/gadget
WORKDIR /var/lib/gadget
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/gadget"]
CMD ["serve"]
