"""MX routing against a DNS server on loopback, and [routes]."""
import re
import socket

import pytest

from conftest import Sink, free_port, wait_for
from dnsserver import DNSServer
from test_delivery import submit


def common_port(hosts):
    for _ in range(50):
        p = free_port()
        try:
            for h in hosts:
                with socket.socket() as s:
                    s.bind((h, p))
            return p
        except OSError:
            continue
    raise AssertionError("no common free port")


@pytest.fixture
def mx_world(make_gateway, sink):
    port = common_port(["127.0.0.21", "127.0.0.22", "127.0.0.23"])
    s1, s2 = Sink(port, host="127.0.0.21"), Sink(port, host="127.0.0.22")
    s1.start()
    s2.start()
    dns = DNSServer({
        "pref.example.net": [("MX", (20, "mx2.pref.example.net")), ("MX", (10, "mx1.pref.example.net"))],
        "mx1.pref.example.net": [("A", "127.0.0.21")],
        "mx2.pref.example.net": [("A", "127.0.0.22")],
        "fallback.example.net": [("MX", (10, "down.fallback.example.net")), ("MX", (20, "mx2.pref.example.net"))],
        "down.fallback.example.net": [("A", "127.0.0.23")],  # nothing listens there
        "noamx.example.net": [("A", "127.0.0.22")],
        "nullmx.example.net": [("MX", (0, "."))],
        # security issue, finding 3: DNS that points at the gateway's own side
        "evil.example.net": [("MX", (10, "mx.evil.example.net"))],
        "mx.evil.example.net": [("A", "127.0.0.1")],
        "localhost": [("A", "127.0.0.1")],
        "lan.example.net": [("A", "192.168.10.25")],
    })
    g = make_gateway(listeners={"mailout-unsecure": {"tls": "off", "clients": "127.0.0.0/8"}},
                     relay={"next_hop": "mx", "resolver": f"127.0.0.1:{dns.port}",
                            "mx_port": str(port), "mx_allow_networks": "127.0.0.20/30"},
                     routes={"example.edu": f"127.0.0.1:{sink.port} tls=opportunistic",
                             ".example.edu": f"127.0.0.1:{sink.port}"})
    g.start()
    yield g, s1, s2, sink, dns
    s1.stop()
    s2.stop()
    dns.close()


def test_mx_preference_order(mx_world):
    g, s1, s2, hub, dns = mx_world
    qid = submit(g, rcpts=("u@pref.example.net",), sender="a@example.edu")[0]
    m = s1.wait_messages(1)[0]
    assert m["to"] == ["u@pref.example.net"] and qid.encode() in m["data"]
    assert s2.messages == []
    g.wait_log(r"event=delivered id=%s .*relay=mx1.pref.example.net" % qid)


def test_mx_fallback_to_next_when_first_refuses(mx_world):
    g, s1, s2, hub, dns = mx_world
    qid = submit(g, rcpts=("u@fallback.example.net",), sender="a@example.edu")[0]
    m = s2.wait_messages(1)[0]
    assert qid.encode() in m["data"]
    g.wait_log(r"event=delivered id=%s .*relay=mx2.pref.example.net" % qid)


def test_a_record_when_no_mx(mx_world):
    g, s1, s2, hub, dns = mx_world
    qid = submit(g, rcpts=("u@noamx.example.net",), sender="a@example.edu")[0]
    m = s2.wait_messages(1)[0]
    assert qid.encode() in m["data"]
    assert ("noamx.example.net", 15) in dns.queries and ("noamx.example.net", 1) in dns.queries


def test_nxdomain_and_null_mx_bounce(mx_world):
    g, s1, s2, hub, dns = mx_world
    qid = submit(g, rcpts=("u@nowhere.example.net", "v@nullmx.example.net"), sender="alice@example.edu")[0]
    m = hub.wait_messages(1)[0]  # the DSN goes to alice via the example.edu route
    text = m["data"].decode()
    assert m["to"] == ["alice@example.edu"] and qid in text
    assert "Final-Recipient: rfc822; u@nowhere.example.net" in text and "Status: 5.1.2" in text
    assert "null MX" in text


def test_routes_split_one_message_per_next_hop(mx_world):
    g, s1, s2, hub, dns = mx_world
    qid = submit(g, rcpts=("bob@example.edu", "lab@physics.example.edu", "u@pref.example.net",
                           "w@pref.example.net"), sender="a@example.edu")[0]
    h = hub.wait_messages(1)[0]
    m = s1.wait_messages(1)[0]
    assert sorted(h["to"]) == ["bob@example.edu", "lab@physics.example.edu"]
    assert sorted(m["to"]) == ["u@pref.example.net", "w@pref.example.net"]  # one transaction each
    wait_for(lambda: g.spool_files("queue") == [], what="queue empty")
    r = g.ctl("check")
    assert "route example.edu" in r.stdout and "MX of the recipient domain" in r.stdout


def test_security_3_mx_never_leads_to_loopback_private_or_ourselves(mx_world):
    """With next_hop = mx, a domain whose MX resolved to 127.0.0.1 (or
    root@localhost) was delivered to a local SMTP server. Now such a
    recipient bounces with the reason; [relay] mx_allow_networks is the only
    way to a network of these classes (the tests' sinks are in it)."""
    g, s1, s2, hub, dns = mx_world
    qid = submit(g, rcpts=("root@evil.example.net", "root@localhost", "x@lan.example.net"),
                 sender="alice@example.edu")[0]
    m = hub.wait_messages(1)[0]  # the DSN, through the example.edu route
    text = m["data"].decode()
    assert "MX of evil.example.net leads only to 127.0.0.1, a loopback address" in text, text
    assert re.search(r"MX of localhost leads only to (127.0.0.1|::1), a loopback address", text)
    assert "MX of lan.example.net leads only to 192.168.10.25, a private address" in text
    assert s1.messages == [] and s2.messages == [] and len(hub.messages) == 1
    g.wait_log(r"event=failed id=%s to=<root@localhost>" % qid)


def test_security_8_route_to_ourselves_is_refused(make_gateway):
    g = make_gateway()
    g.write_config()
    g.routes = {"loop.example.net": f"127.0.0.1:{g.port('mailout-unsecure')}"}
    g.relay["next_hop"] = f"127.0.0.1:{g.port('mailout')}"
    g.write_config()
    r = g.ctl("check", check=False)
    assert r.returncode == 1
    assert f"next hop 127.0.0.1:{g.port('mailout')} is listener 'mailout' of this gateway" in r.stderr
    assert "is listener 'mailout-unsecure' of this gateway: every message would loop" in r.stderr


def test_security_8_mx_that_is_ourselves_is_refused(make_gateway, sink):
    dns = DNSServer({"self.example.net": [("A", "127.0.0.1")]})
    try:
        g = make_gateway(listeners={"mailout-unsecure": {"tls": "off", "clients": "127.0.0.0/8"}},
                         relay={"next_hop": "mx", "resolver": f"127.0.0.1:{dns.port}",
                                "mx_allow_networks": "127.0.0.0/8"},
                         routes={"example.edu": f"127.0.0.1:{sink.port}"})
        g.relay["mx_port"] = str(g.port("mailout-unsecure"))  # the MX is our own listener
        g.write_config()
        g.start()
        submit(g, rcpts=("u@self.example.net",), sender="alice@example.edu")
        text = sink.wait_messages(1)[0]["data"].decode()
        assert "one of this gateway's own listening addresses (a mail loop)" in text, text
        assert g.log().count("event=mail ") == 1  # nothing came back to us
    finally:
        dns.close()
