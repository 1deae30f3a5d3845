"""Hostile input and faults. Each test runs with a canary: a well-behaved
client that keeps sending mail through the gateway and must keep
succeeding while the attack goes on."""
import os
import random
import socket
import ssl
import subprocess
import threading
import time

import pytest

from conftest import wait_for
from smtpraw import Raw, client_context, tls_session


class Canary:
    def __init__(self, g):
        self.g, self.ok, self.failures = g, 0, []
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop_flag.is_set():
            try:
                c = Raw(self.g.port("mailout-unsecure"), source="127.0.0.1", timeout=10)
                c.cmd("EHLO canary.test")
                assert c.cmd("MAIL FROM:<canary@example.edu>")[0] == 250
                assert c.cmd("RCPT TO:<canary@example.edu>")[0] == 250
                assert c.cmd("DATA")[0] == 354
                c.send(b"Subject: canary\r\n\r\nstill alive\r\n.\r\n")
                code, lines = c.reply()
                assert code == 250, lines
                c.cmd("QUIT")
                c.close()
                self.ok += 1
            except Exception as e:  # noqa: BLE001 - every failure counts
                self.failures.append(repr(e))
            time.sleep(0.2)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        try:
            wait_for(lambda: self.ok >= 2 or self.failures, 20, what="canary messages")
        finally:
            self.stop_flag.set()
        self.thread.join(timeout=30)
        assert self.failures == [], self.failures[:3]
        assert self.ok >= 2, "canary sent %d messages" % self.ok


@pytest.fixture
def hostile(make_gateway):
    def make(**gateway):
        return make_gateway(gateway=gateway).start()
    return make


def test_binary_junk(hostile):
    g = hostile(idle_timeout="3s")
    rnd = random.Random(7)
    with Canary(g):
        for _ in range(5):
            c = Raw(g.port("mailout"), source="127.0.0.2")
            c.send(bytes(rnd.getrandbits(8) for _ in range(65536)))
            assert c.closed(timeout=15)
    assert "event=too-many-errors" in g.log() or "event=timeout" in g.log()


def test_nul_bytes_in_commands(hostile):
    g = hostile()
    with Canary(g):
        c = Raw(g.port("mailout"), source="127.0.0.2")
        code, lines = c.cmd("EHLO a\x00b")
        assert code == 500 and "NUL" in lines[0]
        assert c.cmd("NOOP")[0] == 250


def client_hello():
    ctx = client_context()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="mailout.test")
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return out.read()


def test_tls_client_hello_on_plaintext_port(hostile):
    g = hostile(idle_timeout="3s")
    with Canary(g):
        c = Raw(g.port("mailout-unsecure"), source="127.0.0.2")
        c.send(client_hello())
        assert c.closed(timeout=10)


def test_close_mid_handshake(hostile):
    g = hostile()
    with Canary(g):
        for _ in range(20):
            s = socket.create_connection(("127.0.0.1", g.port("mailout-smtps")),
                                         source_address=("127.0.0.2", 0))
            s.sendall(client_hello()[:40])
            s.close()
        g.wait_log(r"event=tls-failed", count=20)


def test_starttls_then_hang_up(hostile):
    g = hostile()
    with Canary(g):
        for _ in range(10):
            c = Raw(g.port("mailout"), source="127.0.0.2")
            c.cmd("EHLO x")
            c.cmd("STARTTLS")
            c.close()


def test_4000_pipelined_commands(make_gateway):
    g = make_gateway(gateway={"max_commands_before_mail": "10000"}).start()
    with Canary(g):
        c = Raw(g.port("mailout"), source="127.0.0.2")
        c.send(b"NOOP\r\n" * 4000)
        replies = [c.reply()[0] for _ in range(4000)]
        assert replies == [250] * 4000
        assert c.cmd("QUIT")[0] == 221


@pytest.mark.parametrize("how", ["starttls", "implicit"])
def test_pipelined_commands_over_tls(make_gateway, sink, how):
    """More commands in a few TLS records than the input buffer holds, sent
    in one go: the server reads records ahead, must answer every command
    from what OpenSSL already holds and must not wait for the socket."""
    g = make_gateway(gateway={"max_commands_before_mail": "10000"}).start()
    if how == "implicit":
        c = Raw(g.port("mailout-smtps"), source="127.0.0.2", implicit=True)
        c.cmd("EHLO pipeline.test")
    else:
        c = tls_session(g.port("mailout"), helo="pipeline.test", source="127.0.0.2")
    c.send(b"NOOP\r\n" * 6000 + b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.edu>\r\n"
           b"DATA\r\n")
    replies = [c.reply()[0] for _ in range(6003)]
    assert replies == [250] * 6002 + [354]
    code, lines = c.cmd("Subject: pipelined over TLS\r\n\r\nbody\r\n.")
    assert code == 250, lines
    assert c.cmd("QUIT")[0] == 221
    assert b"pipelined over TLS" in sink.wait_messages(1)[0]["data"]


def test_commands_before_mail_limit(hostile):
    g = hostile(max_commands_before_mail="20")
    with Canary(g):
        c = Raw(g.port("mailout"), source="127.0.0.2")
        c.send(b"NOOP\r\n" * 4000)
        codes = [c.reply()[0] for _ in range(21)]
        assert codes[:20] == [250] * 20 and codes[20] == 421
        assert c.closed()


def test_client_that_never_reads(make_gateway):
    g = make_gateway(gateway={"max_commands_before_mail": "100000"}).start()
    before = g.rss_kb()
    with Canary(g):
        s = socket.create_connection(("127.0.0.1", g.port("mailout")),
                                     source_address=("127.0.0.2", 0))
        s.settimeout(3)
        sent, grown = 0, 0
        chunk = b"NOOP\r\n" * 10000
        try:
            while sent < 200 * len(chunk):  # 12 MB of commands, never a read
                s.sendall(chunk)
                sent += len(chunk)
                grown = max(grown, g.rss_kb() - before)
        except (socket.timeout, ConnectionResetError, BrokenPipeError):
            pass  # the server stopped reading, or closed at the command limit
        grown = max(grown, g.rss_kb() - before)
        # what was not read stays in kernel buffers, not in mailoutd
        assert sent < 200 * len(chunk), sent
        assert grown < 16 * 1024, grown
        s.close()


def test_slowloris_data(hostile):
    g = hostile(max_data_time="3s", data_timeout="60s")
    with Canary(g):
        c = tls_session(g.port("mailout"), source="127.0.0.2")
        c.cmd("MAIL FROM:<a@example.org>")
        c.cmd("RCPT TO:<b@example.edu>")
        assert c.cmd("DATA")[0] == 354
        t0 = time.time()
        try:
            for _ in range(40):
                c.send(b"x")
                time.sleep(0.5)
        except (ConnectionError, ssl.SSLError, OSError):
            pass
        code, lines = c.reply() if c.buf or not c.closed(0.1) else (None, [])
        assert time.time() - t0 < 8
        g.wait_log(r"event=timeout .*state=data kind=deadline")


def test_slowloris_command_line(hostile):
    g = hostile(idle_timeout="3s")
    with Canary(g):
        c = Raw(g.port("mailout"), source="127.0.0.2")
        t0 = time.time()
        try:
            for _ in range(40):
                c.send(b"N")
                time.sleep(0.5)
        except OSError:
            pass
        assert time.time() - t0 < 8
        code, lines = c.reply()
        assert code == 421 and lines[0].startswith("421 4.4.2"), lines


def test_slowloris_tls_handshake(hostile):
    g = hostile(tls_timeout="2s")
    with Canary(g):
        s = socket.create_connection(("127.0.0.1", g.port("mailout-smtps")),
                                     source_address=("127.0.0.2", 0))
        hello = client_hello()
        t0 = time.time()
        try:
            for b in hello[:30]:
                s.sendall(bytes([b]))
                time.sleep(0.3)
        except OSError:
            pass
        s.settimeout(10)
        try:
            assert s.recv(100) == b""
        except ConnectionResetError:
            pass
        assert time.time() - t0 < 8


def test_connection_flood(make_gateway):
    g = make_gateway(gateway={"max_client_connections": "50", "max_connections": "1000"}).start()
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    held, refused = [], 0
    with Canary(g):
        for i in range(2000):
            s = socket.create_connection(("127.0.0.1", g.port("mailout")),
                                         source_address=(f"127.0.20.{i % 4 + 1}", 0), timeout=10)
            line = s.recv(200)
            if line.startswith(b"421 4.7.0"):
                refused += 1
                s.close()
            else:
                assert line.startswith(b"220"), line
                held.append(s)
        assert len(held) == 200 and refused == 1800, (len(held), refused)
    for s in held:
        s.close()
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_fsync_failure_gives_451_and_keeps_nothing(make_gateway, sink):
    g = make_gateway()
    g.env["MAILOUT_FAULT"] = "fsync:1"
    g.start()
    c = Raw(g.port("mailout-unsecure"))
    c.cmd("EHLO f.test")
    for want in (451, 250):
        c.cmd("MAIL FROM:<a@example.edu>")
        c.cmd("RCPT TO:<b@example.edu>")
        c.cmd("DATA")
        c.send(b"Subject: fault %d\r\n\r\nbody\r\n.\r\n" % want)
        code, lines = c.reply()
        assert code == want, lines
    assert g.spool_files("incoming") == []
    msgs = sink.wait_messages(1)
    time.sleep(1)
    assert len(sink.messages) == 1 and b"fault 250" in msgs[0]["data"]


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_disk_full(make_gateway, sink):
    g = make_gateway(relay={"next_hop": "127.0.0.1:1"})  # keep mail queued
    spool = g.gateway["spool"]
    os.makedirs(spool)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", spool],
                   check=True)
    try:
        g.start()
        with Canary(g) as canary:
            pass  # the canary sends while there is room
        codes = []
        body = b"Subject: big\r\n\r\n" + (b"y" * 76 + b"\r\n") * 1500  # ~117 KiB
        for _ in range(14):
            c = Raw(g.port("mailout"), source="127.0.0.2")
            c.cmd("EHLO f.test")
            c.starttls()
            c.cmd("EHLO f.test")
            c.cmd("MAIL FROM:<a@example.org>")
            c.cmd("RCPT TO:<b@example.edu>")
            code, lines = c.cmd("DATA")
            if code == 354:
                c.send(body + b".\r\n")
                code, lines = c.reply()
            codes.append(code)
            c.close()
        assert 452 in codes, codes
        assert all(code in (250, 452) for code in codes), codes
        assert g.spool_files("incoming") == []
        queued = g.spool_files("queue")
        assert len(queued) == codes.count(250) + canary.ok
        # space comes back: the queued mail goes, new mail is accepted again
        g.stop()
        g.relay["next_hop"] = f"127.0.0.1:{sink.port}"
        g.write_config()
        g.start()
        wait_for(lambda: g.spool_files("queue") == [], timeout=30, what="queue drained")
        c = Raw(g.port("mailout-unsecure"))
        c.cmd("EHLO f.test")
        c.cmd("MAIL FROM:<a@example.edu>")
        c.cmd("RCPT TO:<b@example.edu>")
        c.cmd("DATA")
        c.send(b"Subject: after\r\n\r\nroom again\r\n.\r\n")
        assert c.reply()[0] == 250
        for m in sink.wait_messages(len(queued) + 1):
            assert m["data"].endswith(b"\r\n"), "a half-written message was delivered"
    finally:
        g.stop()
        subprocess.run(["umount", spool], check=False)
