# Build: docker build -t datarobot_license_exporter .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN make build

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/datarobot_license_exporter /bin/datarobot_license_exporter
USER nonroot:nonroot
EXPOSE 9918
ENTRYPOINT ["/bin/datarobot_license_exporter"]
