# The real nats-server (cmd/natsd: the nats-server module go.mod pins, started as its own main
# starts it), static and FROM scratch like the others, so a JetStream cluster runs where no
# registry can be pulled from. rootfs/ brings /data (the JetStream store, owned by the
# unprivileged user) and /tmp. `natsd healthz [URL]` is the health check: there is no shell.
FROM scratch
COPY --chown=65532:65532 rootfs/ /
COPY natsd /natsd
USER 65532:65532
EXPOSE 4222 6222 8222
ENTRYPOINT ["/natsd"]
