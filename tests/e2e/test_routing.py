"""MX routing against a DNS server on loopback, and [routes]."""
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
    })
    g = make_gateway(listeners={"mailout-unsecure": {"tls": "off", "clients": "127.0.0.0/8"}},
                     relay={"next_hop": "mx", "resolver": f"127.0.0.1:{dns.port}",
                            "mx_port": str(port)},
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
