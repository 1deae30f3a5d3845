"""Two gateways behind HAProxy (issue #18, the part without the shared
registry): node A is killed with SIGKILL during a load, HAProxy sends the
new sessions to node B, and after A restarts its spool drains: every
message that got a 250 arrives exactly once. The next hop answers 451
while the load runs, so every accepted message is still in a spool when
A dies (the test is about the spool and the balancer, not about the
at-least-once window of a delivery cut by a crash)."""
import os
import smtplib
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import free_port, wait_for
from smtpraw import client_context
from test_proxy import _listening

LISTENERS = {"mailout": {"tls": "required", "clients": "127.0.0.0/8", "proxy": "yes",
                         "proxy_from": "127.0.0.1"}}
THREADS = 4
LOAD_SECONDS = 6


def haproxy(front_port, backends):
    cfg = ["global", "  maxconn 200", "defaults", "  mode tcp", "  timeout connect 1s",
           "  timeout client 30s", "  timeout server 30s", "  retries 3",
           "  option redispatch", "listen mailout", f"  bind 127.0.0.3:{front_port}",
           "  balance roundrobin", "  option smtpchk EHLO balancer.test"]
    for name, port in backends.items():
        cfg.append(f"  server {name} 127.0.0.1:{port} send-proxy-v2 check check-send-proxy "
                   "inter 300 fall 1 rise 2")
    d = tempfile.mkdtemp(prefix="mailout-haproxy-")
    path = os.path.join(d, "haproxy.cfg")
    with open(path, "w") as f:
        f.write("\n".join(cfg) + "\n")
    return subprocess.Popen(["/usr/sbin/haproxy", "-db", "-f", path],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def subjects(sink):
    out = []
    for m in sink.messages:
        for line in m["data"].split(b"\r\n"):
            if line.startswith(b"Subject: "):
                out.append(line[9:].decode())
                break
    return out


def test_a_node_lost_under_load_loses_nothing(make_gateway, sink):
    if not os.path.exists("/usr/sbin/haproxy"):
        pytest.fail("haproxy is not installed (scripts/test-deps.sh installs it)")
    sink.handler.mode = "451"  # everything stays in the spools while the load runs
    a = make_gateway(listeners=LISTENERS).start()
    b = make_gateway(listeners=LISTENERS).start()
    front = free_port("127.0.0.3")
    proc = haproxy(front, {"a": a.port("mailout"), "b": b.port("mailout")})
    accepted, refused = [], [0]
    lock = threading.Lock()
    stop = time.time() + LOAD_SECONDS

    def client(k):
        n = 0
        while time.time() < stop:
            n += 1
            subject = f"fleet-{k}-{n}"
            try:
                with smtplib.SMTP("127.0.0.3", front, timeout=10,
                                  source_address=("127.0.0.9", 0)) as s:
                    s.starttls(context=client_context())
                    s.sendmail("app@example.edu", ["staff@example.edu"],
                               f"Subject: {subject}\r\n\r\nbody\r\n".encode())
                with lock:
                    accepted.append(subject)
            except (smtplib.SMTPException, OSError):
                with lock:
                    refused[0] += 1

    try:
        wait_for(lambda: _listening("127.0.0.3", front), 10, what="haproxy")
        time.sleep(1)  # both servers up in HAProxy's checks
        threads = [threading.Thread(target=client, args=(k,)) for k in range(THREADS)]
        for t in threads:
            t.start()
        time.sleep(LOAD_SECONDS / 3)
        a.kill9()
        for t in threads:
            t.join(timeout=60)
        queued = len(a.spool_files("queue")), len(b.spool_files("queue"))
        a.start()  # the same spool: what A accepted is still there
        sink.handler.mode = "ok"
        for g in (a, b):
            g.ctl("queue", "flush")
        wait_for(lambda: set(accepted) <= set(subjects(sink)), 60,
                 what=f"{len(accepted)} accepted messages at the sink")
        time.sleep(2)
        got = subjects(sink)
        dupes = sorted({s for s in got if got.count(s) > 1})
        print(f"sent {len(accepted) + refused[0]}, accepted {len(accepted)}, failed or cut "
              f"{refused[0]}, delivered {len(got)}, duplicates {len(dupes)}; "
              f"in the spools after the load: {queued[0]} on A, {queued[1]} on B")
        assert not dupes, dupes[:10]
        assert len(accepted) > 50 and queued[0] > 0 and queued[1] > 0
        # every extra is a message whose 250 the client never read (cut by the kill)
        assert len(set(got) - set(accepted)) <= refused[0]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
