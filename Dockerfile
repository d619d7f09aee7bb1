# socktop agent image: a static binary on scratch, running as a non-root user.
#   docker build -t socktop .
#   docker run --rm --pid=host --network=host -v /sys:/host/sys:ro socktop agent --sys-root /host/sys
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
ARG DATE=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" \
      -o /out/socktop . \
 && mkdir -p /out/home/socktop/.config \
 && echo 'socktop:x:65532:65532:socktop:/home/socktop:/sbin/nologin' > /out/passwd \
 && echo 'socktop:x:65532:' > /out/group

FROM scratch
COPY --from=build /out/socktop /socktop
COPY --from=build /out/passwd /etc/passwd
COPY --from=build /out/group /etc/group
COPY --from=build --chown=65532:65532 /out/home/socktop /home/socktop
ENV HOME=/home/socktop
USER 65532:65532
EXPOSE 3000
ENTRYPOINT ["/socktop"]
CMD ["agent"]
