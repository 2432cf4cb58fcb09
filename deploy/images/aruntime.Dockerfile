# The reference runtime, one role per container (`aruntime router|worker|cache|evidence|provider`).
# FROM scratch: the binary is static (CGO_ENABLED=0), so the image holds it and nothing else, and
# building it pulls nothing. rootfs/ brings /tmp (fixture generation writes there) and /data (the
# durable and router roles' store), owned by the unprivileged user the runtime runs as.
FROM scratch
COPY --chown=65532:65532 rootfs/ /
COPY aruntime /aruntime
ENV TMPDIR=/tmp
USER 65532:65532
ENTRYPOINT ["/aruntime"]
