"""Client of the hub's ops listener (--metrics): plain HTTP requests and the Prometheus
text format of /metrics. Stdlib only."""

import http.client
import re
import socket

TIMEOUT = 5.0   # one request


def http_request(port, path, method="GET", raw=None):
    """(status, headers dict with lower-case names, body str) from the ops listener on
    127.0.0.1:port. raw: bytes sent as they are instead of a request made by http.client
    (the headers are then not parsed)."""
    if raw is not None:
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
            s.sendall(raw)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        return status, {}, body.decode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request(method, path)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode()
    finally:
        conn.close()


SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'(\w+)="([^"]*)"')


def parse_metrics(text):
    """[(name, labels dict, value)]; asserts the text-format basics as it goes."""
    samples, typed = [], set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            raise AssertionError(f"not a Prometheus sample line: {line!r}")
        name = m.group(1)
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        if name not in typed and family not in typed:
            raise AssertionError(f"sample before its # TYPE line: {line!r}")
        samples.append((name, dict(LABEL_RE.findall(m.group(2) or "")), float(m.group(3))))
    return samples


def total(samples, name, **labels):
    """Sum of `name` over every sample whose labels include `labels` (all workers)."""
    return sum(v for n, ls, v in samples
               if n == name and all(ls.get(k) == str(x) for k, x in labels.items()))
