"""Acceptance of the delivery issue: outbound TLS policy, connection reuse,
retries and backoff, delay notices, queue administration on a live daemon."""
import json
import os
import re
import smtplib
import ssl
import subprocess
import time

import pytest

from conftest import Sink, free_port, wait_for
from smtpraw import Raw

pytestmark = pytest.mark.dates


def submit(g, n=1, rcpts=("bob@example.edu",), sender="alice@example.org", tag="m"):
    """n messages over one plaintext connection; returns their queue ids."""
    ids = []
    with smtplib.SMTP("127.0.0.1", g.port("mailout-unsecure"), timeout=20) as s:
        s.ehlo("client.test")
        for i in range(n):
            msg = f"Subject: {tag}{i}\r\nMessage-ID: <{tag}{i}@test>\r\n\r\nbody {i}\r\n"
            s.mail(sender)
            for r in rcpts:
                assert s.rcpt(r)[0] == 250
            code, text = s.data(msg.encode())
            assert code == 250, text
            ids.append(text.decode().split()[-1])
    return ids


def internal(make_gateway, **kw):
    listeners = {"mailout-unsecure": {"tls": "off", "clients": "127.0.0.0/8"}}
    return make_gateway(listeners=listeners, **kw)


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    d = tmp_path_factory.mktemp("ca")
    run = lambda *a: subprocess.run(a, check=True, capture_output=True, cwd=d)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj", "/CN=Test CA")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "hub.key", "-out", "hub.csr", "-subj", "/CN=localhost")
    with open(d / "ext", "w") as f:
        f.write("subjectAltName=DNS:localhost\n")
    run("openssl", "x509", "-req", "-in", "hub.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "hub.pem", "-days", "30", "-extfile", "ext")
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", "self.key", "-out", "self.pem", "-days", "30", "-subj",
        "/CN=localhost", "-addext", "subjectAltName=DNS:localhost")
    os.chmod(d, 0o755)
    for f in os.listdir(d):
        os.chmod(d / f, 0o644)
    return d


def tls_sink(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    s = Sink(tls_context=ctx)
    s.start()
    return s


def test_required_refuses_sink_without_starttls(make_gateway, sink):
    g = internal(make_gateway, relay={"tls": "required"}).start()
    qid = submit(g)[0]
    g.wait_log(r"event=deferred id=%s .*does not offer STARTTLS" % qid)
    time.sleep(0.5)
    assert sink.messages == []
    assert qid in g.spool_files("queue")


def test_verify_refuses_unknown_ca_and_accepts_known(make_gateway, ca):
    bad = tls_sink(str(ca / "self.pem"), str(ca / "self.key"))
    good = tls_sink(str(ca / "hub.pem"), str(ca / "hub.key"))
    try:
        g = internal(make_gateway, relay={"tls": "verify", "ca_file": str(ca / "ca.pem"),
                                          "next_hop": f"localhost:{bad.port}"}).start()
        qid = submit(g)[0]
        g.wait_log(r"event=deferred id=%s .*(certificate|verify)" % qid)
        assert bad.messages == []
        g.stop()
        g.relay["next_hop"] = f"localhost:{good.port}"
        g.write_config()
        g.start()
        m = good.wait_messages(1)[0]
        assert qid.encode() in m["data"]
        g.wait_log(r"event=delivered id=%s .*tls=TLSv1\.3/" % qid)
    finally:
        bad.stop()
        good.stop()


def test_retry_backoff_is_visible_and_grows(make_gateway, sink):
    sink.handler.mode = "451"
    g = internal(make_gateway, relay={"retry_interval": "1s", "retry_factor": "2",
                                      "retry_max": "1h"}).start()
    qid = submit(g)[0]
    g.wait_log(r"event=deferred id=%s .*attempt=2 " % qid, timeout=15)
    waits = [int(w) for w in re.findall(r"event=deferred id=%s .*retry_in=(\d+)s" % qid, g.log())]
    assert waits[0] <= 1 and waits[1] >= 2, waits  # 1s, then about 2s (jittered)
    sink.handler.mode = "ok"
    m = sink.wait_messages(1, timeout=20)[0]
    assert qid.encode() in m["data"]


def test_delay_notice_once(make_gateway, sink):
    sink.handler.mode = "451-rcpt:slow@example.edu"
    g = internal(make_gateway, relay={"retry_interval": "1s", "retry_factor": "1",
                                      "delay_warning": "2s"}).start()
    qid = submit(g, rcpts=("slow@example.edu",))[0]
    m = sink.wait_messages(1, timeout=15)[0]
    assert m["to"] == ["alice@example.org"] and m["from"] in ("", "<>")
    text = m["data"].decode()
    assert "Action: delayed" in text and "Status: 4.2.1" in text and qid in text
    g.wait_log(r"event=deferred id=%s .*attempt=4 " % qid, timeout=15)
    assert len(sink.messages) == 1  # one notice, not one per attempt


def test_quoted_recipient_with_space_delivered_once(make_gateway, sink):
    """Issue 12: the state line of "a b"@victim.example was split at its space,
    so the recipient was delivered again at every retry, and a 550 for
    "nosuch x"@victim.example sent a new DSN at every retry. Over at least
    five retries: one delivery and one DSN each, and queue list shows it."""
    sink.handler.rcpt_replies = {
        "tempfail@example.org": "451 4.2.1 <tempfail@example.org>: busy, try later",
        '"nosuch x"@victim.example': '550 5.1.1 <"nosuch x"@victim.example>: no such user'}
    g = make_gateway(relay={"retry_interval": "1s", "retry_factor": "1"}).start()
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    rcpts = ["tempfail@example.org", '"a b"@victim.example', '"nosuch x"@victim.example',
             "plain@victim.example"]
    with smtplib.SMTP("127.0.0.1", g.port("mailout"), timeout=20) as s:
        s.starttls(context=ctx)
        s.sendmail("alice@example.org", rcpts, b"Subject: quoted\r\n\r\nhello\r\n")
    qid = re.search(r"event=queued .*id=(\w+)", g.wait_log("event=queued") and g.log()).group(1)
    g.wait_log(r"event=deferred id=%s .*attempt=6 " % qid, timeout=40)
    seen = sink.handler.rcpt_seen
    assert seen.count("tempfail@example.org") >= 6, seen
    assert seen.count('"a b"@victim.example') == 1, seen
    assert seen.count('"nosuch x"@victim.example') == 1, seen
    assert seen.count("plain@victim.example") == 1, seen
    delivered = [m for m in sink.messages if m["from"] == "alice@example.org"]
    assert sorted(r for m in delivered for r in m["to"]) == ['"a b"@victim.example',
                                                             "plain@victim.example"]
    dsns = [m for m in sink.messages if m["from"] in ("", "<>")]
    assert len(dsns) == 1 and b"nosuch x" in dsns[0]["data"], dsns
    [entry] = json.loads(g.ctl("queue", "list", "--json").stdout)
    states = {r["address"]: r["state"] for r in entry["recipients"]}
    assert states == {"tempfail@example.org": "deferred", '"a b"@victim.example': "delivered",
                      '"nosuch x"@victim.example': "failed",
                      "plain@victim.example": "delivered"}, states


def test_connection_reuse(make_gateway, sink):
    dead = free_port()
    g = internal(make_gateway, relay={"next_hop": f"127.0.0.1:{dead}", "connections": "4"}).start()
    ids = submit(g, n=200)
    g.stop()
    g.relay["next_hop"] = f"127.0.0.1:{sink.port}"
    g.write_config()
    g.start()
    sink.wait_messages(200, timeout=60)
    wait_for(lambda: g.spool_files("queue") == [], timeout=30, what="queue empty")
    conns = len(sink.handler.sessions)
    print(f"\n200 messages used {conns} connections to the next hop")
    assert conns <= 10, conns
    got = sorted(m["data"].split(b"Subject: m")[1].split(b"\r\n")[0] for m in sink.messages)
    assert len(set(got)) == 200 and len(ids) == 200


def ctl(g, *args):
    return g.ctl("queue", *args)


def test_queue_commands_on_live_daemon(make_gateway, sink):
    sink.handler.mode = "451"
    g = internal(make_gateway, relay={"retry_interval": "1h"}).start()
    a, b, c, d = submit(g, n=4)
    g.wait_log(r"event=deferred id=%s " % d)
    items = {i["id"]: i for i in json.loads(ctl(g, "list", "--json").stdout)}
    assert set(items) == {a, b, c, d}
    assert items[a]["attempts"] == 1 and items[a]["recipients"][0]["state"] == "deferred"
    assert "451 4.3.0" in items[a]["recipients"][0]["last_error"]
    assert {i["id"] for i in json.loads(ctl(g, "list", "--deferred", "--json").stdout)} == {a, b, c, d}
    sink.handler.mode = "ok"
    # hold stops delivery; flush retries now; delete removes
    ctl(g, "hold", b)
    ctl(g, "delete", c)
    assert [i["id"] for i in json.loads(ctl(g, "list", "--held", "--json").stdout)] == [b]
    ctl(g, "flush", a)
    m = sink.wait_messages(1, timeout=10)[0]
    assert a.encode() in m["data"]
    ctl(g, "flush")
    sink.wait_messages(2, timeout=10)
    time.sleep(1.5)
    delivered = b"".join(m["data"] for m in sink.messages)
    assert d.encode() in delivered and b.encode() not in delivered and c.encode() not in delivered
    # release resumes
    ctl(g, "release", b)
    wait_for(lambda: any(b.encode() in m["data"] for m in sink.messages), timeout=10,
             what="released message delivered")
    wait_for(lambda: g.spool_files("queue") == [] and g.spool_files("hold") == [],
             what="queue empty")
    assert not any(c.encode() in m["data"] for m in sink.messages)
    r = g.ctl("queue", "show", c, check=False)
    assert r.returncode == 1


def test_queue_bounce(make_gateway, sink):
    sink.handler.mode = "451-rcpt:stuck@example.edu"
    g = internal(make_gateway, relay={"retry_interval": "1h"}).start()
    qid = submit(g, rcpts=("stuck@example.edu",))[0]
    g.wait_log(r"event=deferred id=%s " % qid)
    ctl(g, "bounce", qid)
    m = sink.wait_messages(1, timeout=10)[0]
    text = m["data"].decode()
    assert m["to"] == ["alice@example.org"] and "Action: failed" in text
    assert "returned to the sender by the mail administrator" in text
    wait_for(lambda: g.spool_files("queue") == [], what="queue empty")


def established_to(port):
    out = subprocess.run(["ss", "-Htn", "state", "established", "dport", f"= :{port}"],
                         capture_output=True, text=True).stdout
    return len([l for l in out.splitlines() if l.strip()])


def test_connections_per_host_limit(make_gateway, sink):
    dead = free_port()
    g = internal(make_gateway, relay={"next_hop": f"127.0.0.1:{dead}", "connections": "4",
                                      "connections_per_host": "1"}).start()
    submit(g, n=60)
    g.stop()
    g.relay["next_hop"] = f"127.0.0.1:{sink.port}"
    g.write_config()
    g.start()
    peak = 0
    deadline = time.time() + 60
    while len(sink.messages) < 60 and time.time() < deadline:
        peak = max(peak, established_to(sink.port))
        time.sleep(0.01)
    assert len(sink.messages) == 60
    # four delivery threads, but never more than one connection to this next hop
    assert peak == 1, peak


def test_pipelined_relay_through_a_second_mailout(make_gateway, sink):
    """mailoutd as the next hop advertises PIPELINING: MAIL, RCPTs and DATA
    (and RSET on a reused connection) go in one write."""
    hub = make_gateway(listeners={"in": {"tls": "optional", "recipients": "internal"}}).start()
    g = internal(make_gateway, relay={"next_hop": f"127.0.0.1:{hub.port('in')}",
                                      "tls": "required", "connections": "1"}).start()
    ids = submit(g, n=5, rcpts=("bob@example.edu", "eve@elsewhere.example"),
                 sender="alice@example.edu")
    # the hub refuses the external recipient: alice gets DSNs, bob gets the mail
    msgs = sink.wait_messages(10, timeout=30)
    to_bob = [m for m in msgs if m["to"] == ["bob@example.edu"]]
    dsns = [m for m in msgs if m["to"] == ["alice@example.edu"]]
    assert len(to_bob) == 5 and len(dsns) == 5
    assert "Final-Recipient: rfc822; eve@elsewhere.example" in dsns[0]["data"].decode()
    for qid in ids:
        g.wait_log(r"event=delivered id=%s .*tls=TLSv1\.3" % qid)
    # the five messages shared one connection to the hub (RSET between them)
    hub.wait_log(r"event=disconnect .*messages=([5-9]|1[0-9]) ")
