"""A fleet (issue #18): two gateways on different loopback addresses behind
Debian's HAProxy (send-proxy-v2), sharing one PostgreSQL registry in a
throw-away cluster (tests/e2e/pgserver.py).

- A device registered through node A's web page and approved there is
  admitted by node B within a second (LISTEN/NOTIFY), and its usage counted
  by both nodes adds up in the one registry.
- Node A is killed with SIGKILL during a load, HAProxy sends the new sessions
  to B, and after A restarts its spool drains: every message that got a 250
  arrives exactly once. The next hop answers 451 while the load runs, so
  every accepted message is still in a spool when A dies (the test is about
  the spool and the balancer, not about the at-least-once window of a
  delivery cut by a crash).
- PostgreSQL stopped for 30 s under load: no registered device is refused
  (the workers serve from their last snapshot, log and count it), and the
  counters of the outage reach the registry when it is back."""
import os
import re
import smtplib
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import day, free_port, wait_for
from pgserver import Postgres
from smtpraw import client_context
from test_proxy import _listening
from test_web import ADMIN_PASSWORD, ADMIN_USER, COPIER, admins_file  # noqa: F401
from webclient import WebClient

PROXIED = {"proxy": "yes", "proxy_from": "127.0.0.1"}
LISTENERS = {
    "mailout": {"tls": "required", "clients": "127.0.0.0/8", **PROXIED},
    "mailout-unsecure": {"tls": "off", "clients": "registered", "recipients": "internal",
                         **PROXIED},
}
NODES = {"a": "127.0.0.2", "b": "127.0.0.3"}
FRONT = "127.0.0.4"
DEVICE = "127.0.0.5"
THREADS = 4
LOAD_SECONDS = 6
MSG = b"Subject: scan\r\n\r\nscanned page\r\n"


def haproxy(fronts):
    """fronts: name -> (port, {server: (host, port)})."""
    cfg = ["global", "  maxconn 200", "defaults", "  mode tcp", "  timeout connect 1s",
           "  timeout client 30s", "  timeout server 30s", "  retries 3",
           "  option redispatch"]
    for name, (port, servers) in fronts.items():
        cfg += [f"listen {name}", f"  bind {FRONT}:{port}", "  balance roundrobin",
                "  option smtpchk EHLO balancer.test"]
        for server, (host, sport) in servers.items():
            cfg.append(f"  server {server} {host}:{sport} source 127.0.0.1 send-proxy-v2 "
                       "check check-send-proxy inter 300 fall 1 rise 2")
    d = tempfile.mkdtemp(prefix="mailout-haproxy-")
    path = os.path.join(d, "haproxy.cfg")
    with open(path, "w") as f:
        f.write("\n".join(cfg) + "\n")
    return subprocess.Popen(["/usr/sbin/haproxy", "-db", "-f", path],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Fleet:
    def __init__(self, make_gateway, pg, web):
        if not os.path.exists("/usr/sbin/haproxy"):
            pytest.fail("haproxy is not installed (scripts/test-deps.sh installs it)")
        reg = {"database": pg.url, "default_expiry": day(200)}
        # B names the database server by name: libpq's lookup in the workers' sandbox
        reg_b = dict(reg, database=pg.url.replace("@127.0.0.1:", "@localhost:"))
        self.a = make_gateway(listeners=LISTENERS, registry=reg, web=web, host=NODES["a"])
        self.b = make_gateway(listeners=LISTENERS, registry=reg_b, host=NODES["b"])
        self.a.start()
        self.b.start()
        nodes = {"a": self.a, "b": self.b}

        def servers(listener, only=None):
            return {n: (NODES[n], g.port(listener)) for n, g in nodes.items()
                    if only in (None, n)}
        self.ports = {"tls": free_port(FRONT), "plain": free_port(FRONT),
                      "plain_b": free_port(FRONT)}
        self.proc = haproxy({"tls": (self.ports["tls"], servers("mailout")),
                             "plain": (self.ports["plain"], servers("mailout-unsecure")),
                             "plain_b": (self.ports["plain_b"],
                                         servers("mailout-unsecure", "b"))})
        for p in self.ports.values():
            wait_for(lambda: _listening(FRONT, p), 10, what="haproxy")
        time.sleep(1)  # every server up in HAProxy's checks

    def send_plain(self, front="plain", n=1):
        """n messages in one session from the registered device; the reply
        of the connection if it was refused."""
        try:
            with smtplib.SMTP(FRONT, self.ports[front], timeout=10,
                              source_address=(DEVICE, 0)) as s:
                for _ in range(n):
                    s.sendmail("scan@example.edu", ["lab@example.edu"], MSG)
            return None
        except smtplib.SMTPResponseException as e:
            return e.smtp_code
        except (smtplib.SMTPException, OSError) as e:
            return str(e)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def postgres():
    pg = Postgres()
    yield pg
    pg.cleanup()


@pytest.fixture
def fleet(make_gateway, postgres, admins_file):  # noqa: F811
    web = {"clients": f"127.0.0.1 {DEVICE}", "admin_clients": "127.0.0.1",
           "register_networks": "127.0.0.0/24", "admins": admins_file,
           "organisation": "Example University"}
    f = Fleet(make_gateway, postgres, web)
    yield f
    f.stop()


def counters(gw):
    out = gw.ctl("device", "show", DEVICE).stdout
    return {k: int(v) for k, v in re.findall(r"^(sessions|messages)\s+(\d+)$", out, re.M)}


def test_registered_on_a_admitted_by_b_within_a_second(fleet, sink):
    a, b = fleet.a, fleet.b
    r = fleet.send_plain("plain_b")
    open("/tmp/blog.txt", "w").write(b.log())
    assert r == 554, r  # not registered yet
    c = WebClient(a.web_url, source=DEVICE)
    status, _, page = c.post("/register", dict(COPIER, address=DEVICE,
                                                csrf=WebClient.csrf(c.get("/register")[2])))
    assert status == 200, page
    assert "pending" in b.ctl("device", "show", DEVICE).stdout  # B's mailoutctl reads it too
    admin = WebClient(a.web_url)
    admin.login(ADMIN_USER, ADMIN_PASSWORD)
    tok = WebClient.csrf(admin.get("/admin")[2])
    assert admin.post("/admin/action", {"csrf": tok, "id": 1, "op": "approve",
                                        "expires": ""})[0] == 303
    approved = time.monotonic()
    replies = []
    while time.monotonic() - approved < 5:
        replies.append(fleet.send_plain("plain_b"))
        if replies[-1] is None:
            break
        time.sleep(0.05)
    took = time.monotonic() - approved
    print(f"admitted by node B {took:.3f} s after the approval on node A "
          f"({len(replies)} tries: {replies})")
    assert replies[-1] is None and took < 1.0, replies
    assert re.search(rf"event=queued .*client={DEVICE}\b", b.log()), b.log()
    # usage from both nodes adds up in the one registry
    for _ in range(6):
        assert fleet.send_plain("plain") is None  # round robin: A, B, A, ...
    sink.wait_messages(7)
    wait_for(lambda: counters(a).get("messages") == 7, 10,
             what=f"7 messages counted ({counters(a)})")
    assert counters(b) == counters(a) and counters(a)["sessions"] >= 7
    for g in (a, b):
        assert len(re.findall(rf"event=queued .*client={DEVICE}\b", g.log())) >= 3, g.log()


def subjects(sink):
    out = []
    for m in sink.messages:
        for line in m["data"].split(b"\r\n"):
            if line.startswith(b"Subject: "):
                out.append(line[9:].decode())
                break
    return out


def test_a_node_lost_under_load_loses_nothing(fleet, sink):
    a, b = fleet.a, fleet.b
    sink.handler.mode = "451"  # everything stays in the spools while the load runs
    accepted, refused = [], [0]
    lock = threading.Lock()
    stop = time.time() + LOAD_SECONDS

    def client(k):
        n = 0
        while time.time() < stop:
            n += 1
            subject = f"fleet-{k}-{n}"
            try:
                with smtplib.SMTP(FRONT, fleet.ports["tls"], timeout=10,
                                  source_address=("127.0.0.9", 0)) as s:
                    s.starttls(context=client_context())
                    s.sendmail("app@example.edu", ["staff@example.edu"],
                               f"Subject: {subject}\r\n\r\nbody\r\n".encode())
                with lock:
                    accepted.append(subject)
            except (smtplib.SMTPException, OSError):
                with lock:
                    refused[0] += 1

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


OUTAGE_AFTER, OUTAGE = 3, 30


def test_registry_down_30s_under_load_refuses_no_registered_device(fleet, postgres, sink):
    a, b = fleet.a, fleet.b
    a.ctl("device", "add", DEVICE, "--name", "copier", "--owner", "lab@example.edu")
    sent = []

    def probe(front):
        sent.append(fleet.send_plain(front) is None)
        return sent[-1]
    wait_for(lambda: probe("plain_b"), 5, what="the device admitted on B")
    wait_for(lambda: probe("plain") and probe("plain"), 5, what="the device admitted on A and B")
    base = sum(sent)  # messages before the load
    results, lock = [], threading.Lock()
    stop = time.time() + OUTAGE_AFTER + OUTAGE + 3

    def device(k):
        while time.time() < stop:
            r = fleet.send_plain("plain")
            with lock:
                results.append((time.time(), r))
            time.sleep(0.05)

    threads = [threading.Thread(target=device, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    time.sleep(OUTAGE_AFTER)
    postgres.stop()
    down = time.time()
    time.sleep(2)
    # meanwhile the pages and mailoutctl say so, at once
    status, _, page = WebClient(a.web_url, source=DEVICE).get("/check")
    assert status == 503 and "cannot be read just now" in page, (status, page)
    t = time.time()
    r = b.ctl("device", "list", check=False)
    assert r.returncode != 0 and "PostgreSQL" in r.stderr and time.time() - t < 10, r
    time.sleep(max(0, down + OUTAGE - time.time()))
    postgres.start()
    up = time.time()
    for t in threads:
        t.join(timeout=60)
    during = [r for t, r in results if down <= t <= up]
    bad = [r for _, r in results if r is not None]
    print(f"sessions from the registered device: {len(results)}, {len(during)} while "
          f"PostgreSQL was down for {up - down:.0f} s; refused or failed: {len(bad)}")
    assert not bad, bad[:10]
    assert len(during) > 20
    for g in (a, b):
        g.wait_log(r"event=registry-error", timeout=5)
        g.wait_log(r"event=registry-recovered", timeout=20)
    # the outage's counters were kept and written when the registry came back
    wait_for(lambda: counters(a).get("messages") == base + len(results), 20,
             what=f"{base} + {len(results)} messages counted ({counters(a)})")
    text = WebClient(a.web_url).get("/metrics")[2]
    errors = re.search(r"^mailout_registry_errors_total (\d+)$", text, re.M)
    assert errors and int(errors.group(1)) > 0, text
    assert re.search(r"^mailout_registry_stale_workers 0$", text, re.M), text


def test_a_gateways_sqlite_registry_copied_into_postgresql(make_gateway, postgres, sink):
    """How one gateway becomes a fleet: `mailoutctl registry copy` moves its
    SQLite registry, ids, history and counters included, into PostgreSQL."""
    from test_web import LISTENERS as WEB_LISTENERS
    one = make_gateway(listeners=WEB_LISTENERS, registry={}).start()
    one.ctl("device", "add", DEVICE, "--name", "Kopierer", "--owner", "lab@example.edu",
            "--language", "de")
    one.ctl("device", "add", "10.1.0.0/24", "--name", "Labor", "--owner", "it@example.edu")
    one.ctl("device", "revoke", "10.1.0.0/24", "--why", "replaced")
    with smtplib.SMTP("127.0.0.1", one.port("mailout-unsecure"), timeout=10,
                      source_address=(DEVICE, 0)) as s:
        s.sendmail("scan@example.edu", ["lab@example.edu"], MSG)
    wait_for(lambda: counters(one).get("messages") == 1, 10, what="the message counted")
    fleet = make_gateway(listeners=LISTENERS, registry={"database": postgres.url})
    r = fleet.ctl("registry", "copy", "--from", one.registry["database"])
    print(r.stdout)
    assert re.search(r"^devices\s+2 rows$", r.stdout, re.M), r.stdout
    assert re.search(r"^history\s+3 rows$", r.stdout, re.M), r.stdout
    for args in (["device", "list", "--json"], ["device", "history", "2"],
                 ["report", "tls", "--json"], ["report", "sessions", DEVICE, "--json"],
                 ["report", "transition", "--json"]):
        assert fleet.ctl(*args).stdout == one.ctl(*args).stdout, args
    again = fleet.ctl("registry", "copy", "--from", one.registry["database"], check=False)
    assert again.returncode == 1 and "already holds registrations" in again.stderr
    assert "added device 3:" in fleet.ctl("device", "add", "127.0.0.8", "--name", "Fax",
                                          "--owner", "lab@example.edu").stdout
