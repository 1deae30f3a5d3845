"""PROXY protocol on listeners (issue #18, acceptance 2): only the load
balancers in proxy_from may connect to a `proxy = yes` listener; the
client address in their header (v1 or v2) is the one used for the policy,
the registry, the logs and Received:; a forged header from anyone else
never changes the client address; a connection without a header is
closed. Headers crafted here, and real ones from Debian's HAProxy."""
import os
import socket
import smtplib
import ssl
import struct
import subprocess
import tempfile
import time

import pytest

from conftest import free_port, wait_for
from smtpraw import client_context

BALANCER = "127.0.0.2"
LISTENERS = {
    "mailout": {"tls": "required", "clients": "127.0.0.0/8", "proxy": "yes",
                "proxy_from": BALANCER},
    "mailout-smtps": {"tls": "implicit", "clients": "127.0.0.0/8", "proxy": "yes",
                      "proxy_from": BALANCER},
    "mailout-unsecure": {"tls": "off", "clients": "registered", "recipients": "internal",
                         "proxy": "yes", "proxy_from": BALANCER},
}
MSG = b"Subject: scan\r\n\r\npage\r\n"


def v1(src, dst="127.0.0.1", sport=40000, dport=25):
    return f"PROXY TCP4 {src} {dst} {sport} {dport}\r\n".encode()


def v2(src, dst="127.0.0.1", sport=40000, dport=25, local=False):
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    if local:
        return sig + bytes([0x20, 0x00]) + struct.pack("!H", 0)
    body = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)
    tlv = bytes([0x04, 0x00, 0x02]) + b"ab"  # a TLV (PP2_TYPE_NOOP), skipped
    return sig + bytes([0x21, 0x11]) + struct.pack("!H", len(body) + len(tlv)) + body + tlv


def connect(gw, listener, source, header=b""):
    s = socket.create_connection(("127.0.0.1", gw.port(listener)), timeout=10,
                                 source_address=(source, 0))
    if header:
        s.sendall(header)
    return s


def greeting(s):
    s.settimeout(10)
    try:
        return s.recv(512)
    except (ConnectionResetError, socket.timeout):
        return b""


class ProxySMTP(smtplib.SMTP):
    """smtplib that sends a PROXY header first, as a balancer would."""

    def __init__(self, header, *args, **kw):
        self.header = header
        super().__init__(*args, **kw)

    def _get_socket(self, host, port, timeout):
        s = socket.create_connection((host, port), timeout, self.source_address)
        s.sendall(self.header)
        return s


def send_through(gw, listener, header, starttls):
    with ProxySMTP(header, "127.0.0.1", gw.port(listener), timeout=10,
                   source_address=(BALANCER, 0)) as s:
        if starttls:
            s.starttls(context=client_context())
        s.sendmail("scan@example.edu", ["staff@example.edu"], MSG)


@pytest.fixture
def gw(make_gateway):
    g = make_gateway(listeners=LISTENERS, registry={}).start()
    g.ctl("device", "add", "127.0.0.5", "--name", "copier", "--owner", "it@example.edu")
    return g


def test_header_names_the_client_everywhere(gw, sink):
    # v1 on the STARTTLS listener, v2 (with a TLV) on the unencrypted one
    send_through(gw, "mailout", v1("127.0.0.9"), True)
    send_through(gw, "mailout-unsecure", v2("127.0.0.5"), False)
    msgs = sink.wait_messages(2)
    received = [m["data"].split(b"\r\n", 1)[0] for m in msgs]
    assert any(b"[127.0.0.9]" in r for r in received), received
    assert any(b"[127.0.0.5]" in r for r in received), received
    assert not any(BALANCER.encode() in m["data"] for m in msgs)
    gw.wait_log(r"event=connect .*listener=mailout-unsecure client=127\.0\.0\.5 .*refused=no")
    # the registry decides by the carried address: 127.0.0.6 is not registered
    s = connect(gw, "mailout-unsecure", BALANCER, v2("127.0.0.6"))
    assert greeting(s).startswith(b"554 5.7.1 Device 127.0.0.6 is not registered")
    # the sessions are recorded under the client's address
    wait_for(lambda: "127.0.0.5" in gw.ctl("report", "tls").stdout, 15, what="report tls")
    assert BALANCER not in gw.ctl("report", "tls").stdout


def test_implicit_tls_after_the_header_in_one_packet(gw, sink):
    raw = socket.create_connection(("127.0.0.1", gw.port("mailout-smtps")), timeout=10,
                                   source_address=(BALANCER, 0))
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)
    raw.sendall(v2("127.0.0.9"))  # the ClientHello follows at once
    tls = client_context().wrap_socket(raw, server_hostname="mailout.test")
    assert tls.recv(512).startswith(b"220 ")
    tls.sendall(b"QUIT\r\n")
    tls.close()
    gw.wait_log(r"event=connect .*listener=mailout-smtps client=127\.0\.0\.9 ")


def test_only_balancers_and_only_with_a_header(gw):
    # a forged header from outside proxy_from: closed, the forged address never used
    s = connect(gw, "mailout-unsecure", "127.0.0.7", v1("127.0.0.5"))
    assert greeting(s) == b""
    gw.wait_log(r'event=refuse-connection listener=mailout-unsecure client=127\.0\.0\.7 '
                r'reason="not in proxy_from')
    assert "client=127.0.0.5" not in gw.log()
    # the balancer without a header: closed
    s = connect(gw, "mailout", BALANCER, b"EHLO copier.test\r\n")
    assert greeting(s) == b""
    gw.wait_log(r'client=127\.0\.0\.2 reason="no valid PROXY header"')
    # a malformed one
    s = connect(gw, "mailout", BALANCER, b"PROXY TCP4 1.2.3 127.0.0.1 1 2\r\n")
    assert greeting(s) == b""
    # a health check (v2 LOCAL) is the balancer itself: greeted even where
    # only registered devices are (or HAProxy's smtpchk would take the node
    # down), never given MAIL, and kept out of the logs and reports
    for listener in ("mailout", "mailout-unsecure"):
        s = connect(gw, listener, BALANCER, v2("0.0.0.0", local=True))
        f = s.makefile("rb")
        assert f.readline().startswith(b"220 "), listener
        s.sendall(b"EHLO balancer.test\r\n")
        while (line := f.readline()).startswith(b"250-"):
            pass
        assert line.startswith(b"250 "), line
        s.sendall(b"MAIL FROM:<probe@example.edu>\r\n")
        want = b"530 " if listener == "mailout" else b"550 5.7.1 A load balancer's health check"
        assert f.readline().startswith(want), listener
        s.sendall(b"QUIT\r\n")
        assert f.readline().startswith(b"221"), listener
        s.close()
    time.sleep(2.5)  # a flush of the counters
    probes = [line for line in gw.log().splitlines() if f"client={BALANCER} tls" in line]
    assert not any("event=connect" in p or "event=disconnect" in p for p in probes), probes
    assert BALANCER not in gw.ctl("report", "tls").stdout


def test_config_needs_proxy_from(make_gateway):
    g = make_gateway(listeners={"mailout": {"tls": "required", "clients": "127.0.0.0/8",
                                            "proxy": "yes"}})
    r = g.ctl("check", check=False)
    assert r.returncode != 0 and "proxy = yes but no proxy_from" in r.stderr


def test_behind_haproxy(make_gateway, sink):
    """Debian's HAProxy with send-proxy-v2 in front: the gateway sees the
    device's address, and the registered device is admitted by it."""
    if not os.path.exists("/usr/sbin/haproxy"):
        pytest.fail("haproxy is not installed (scripts/test-deps.sh installs it)")
    listeners = {k: dict(v, proxy_from="127.0.0.1") for k, v in LISTENERS.items()}
    gw = make_gateway(listeners=listeners, registry={}).start()
    gw.ctl("device", "add", "127.0.0.5", "--name", "copier", "--owner", "it@example.edu")
    front = {name: free_port("127.0.0.3") for name in ("mailout", "mailout-unsecure")}
    cfg = ["global", "  maxconn 100", "defaults", "  mode tcp", "  timeout connect 5s",
           "  timeout client 30s", "  timeout server 30s"]
    for name, port in front.items():
        cfg += [f"listen {name}", f"  bind 127.0.0.3:{port}",
                f"  server gw 127.0.0.1:{gw.port(name)} send-proxy-v2"]
    d = tempfile.mkdtemp(prefix="mailout-haproxy-")
    path = os.path.join(d, "haproxy.cfg")
    with open(path, "w") as f:
        f.write("\n".join(cfg) + "\n")
    proc = subprocess.Popen(["/usr/sbin/haproxy", "-db", "-f", path],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _listening("127.0.0.3", front["mailout"]), 10, what="haproxy")
        with smtplib.SMTP("127.0.0.3", front["mailout-unsecure"], timeout=10,
                          source_address=("127.0.0.5", 0)) as s:
            s.sendmail("scan@example.edu", ["staff@example.edu"], MSG)
        with pytest.raises(smtplib.SMTPConnectError):
            smtplib.SMTP("127.0.0.3", front["mailout-unsecure"], timeout=10,
                         source_address=("127.0.0.6", 0))
        with smtplib.SMTP("127.0.0.3", front["mailout"], timeout=10,
                          source_address=("127.0.0.9", 0)) as s:
            s.starttls(context=client_context())
            s.sendmail("app@example.edu", ["staff@example.edu"], MSG)
        msgs = sink.wait_messages(2)
        assert any(b"[127.0.0.5]" in m["data"] for m in msgs)
        assert any(b"[127.0.0.9]" in m["data"] for m in msgs)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _listening(host, port):
    try:
        socket.create_connection((host, port), timeout=0.5).close()
        return True
    except OSError:
        return False


def test_web_takes_x_forwarded_for_only_from_proxy_from(make_gateway):
    from webclient import WebClient
    gw = make_gateway(listeners={"mailout": {"tls": "required", "clients": "127.0.0.0/8"}},
                      registry={}, web={"clients": "127.0.0.0/8",
                                        "proxy_from": BALANCER}).start()
    xff = {"X-Forwarded-For": "10.9.9.9, 127.0.0.5"}  # the last is the proxy's word
    page = WebClient(gw.web_url, source=BALANCER, headers=xff).get("/check")[2]
    assert "<h2>Address 127.0.0.5</h2>" in page, page[:2000]
    page = WebClient(gw.web_url, source="127.0.0.7", headers=xff).get("/check")[2]
    assert "<h2>Address 127.0.0.7</h2>" in page  # a forged header from elsewhere
    gw.wait_log(r"event=web-request client=127\.0\.0\.5 ")
