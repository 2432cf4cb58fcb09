# Toxiproxy's own server (github.com/Shopify/toxiproxy/v2/cmd/server, the version go.mod pins),
# built static and run FROM scratch: the harness drives it through its API on 8474 and the
# proxies it creates listen on unprivileged ports, so it runs unprivileged. -proxy-metrics
# counts each proxy's bytes at /metrics, which the fault engine reads to show a fault hit traffic.
FROM scratch
COPY toxiproxy /toxiproxy
USER 65532:65532
EXPOSE 8474
ENTRYPOINT ["/toxiproxy", "-host", "0.0.0.0", "-port", "8474", "-proxy-metrics"]
