"""The security review's findings (security issue): each test fails on the
code before its fix. Finding 1 is in test_daemon.py, 5 in test_flood.py."""
import os
import pathlib
import stat
import time

import pytest

from conftest import day, wait_for
from smtpraw import Raw, tls_session


def send(g, port_name, sender, rcpts, body=b"Subject: t\r\n\r\nhi\r\n", source=None):
    c = Raw(g.port(port_name), source=source) if port_name != "mailout" else \
        tls_session(g.port("mailout"))
    if port_name != "mailout":
        c.cmd("EHLO t.test")
    assert c.cmd(f"MAIL FROM:<{sender}>")[0] == 250
    for r in rcpts:
        c.cmd(f"RCPT TO:<{r}>")
    assert c.cmd("DATA")[0] == 354
    c.send(body + b".\r\n")
    code, lines = c.reply()
    c.cmd("QUIT")
    return code, lines


def test_12_bare_cr_from_the_next_hop_never_reaches_a_dsn(make_gateway, sink):
    """A 550 whose text holds \\r.\\rMAIL FROM: appeared byte for byte in the
    DSN text and in Diagnostic-Code."""
    sink.handler.rcpt_replies = {
        "nobody@example.edu": "550 5.1.1 no such user\r.\rMAIL FROM:<evil@example.net>\n"
                              "RCPT TO:<victim@example.net>"}
    g = make_gateway().start()
    assert send(g, "mailout", "alice@example.org", ["nobody@example.edu"])[0] == 250
    [dsn] = sink.wait_messages(1)
    text = dsn["data"]
    assert b"no such user?.?MAIL FROM:<evil@example.net>" in text, text
    for i, ch in enumerate(text):
        if ch == 13:
            assert text[i + 1:i + 2] == b"\n", text[max(0, i - 40):i + 40]
        if ch == 10:
            assert text[i - 1:i] == b"\r", text[max(0, i - 40):i + 40]
    assert "reply=\"550 5.1.1 no such user?.?MAIL FROM" in g.log()


def test_14_outbox_is_not_world_readable(make_gateway):
    """The dir: outbox was 0755 with 0644 files."""
    g = make_gateway()
    outbox = pathlib.Path(g.dir) / "outbox"  # g.dir is reachable for the service user
    g.relay["next_hop"] = f"dir:{outbox}"
    g.write_config()
    g.start()
    assert send(g, "mailout-unsecure", "a@example.edu", ["b@example.edu"])[0] == 250
    [name] = wait_for(lambda: [n for n in os.listdir(outbox) if n.endswith(".eml")],
                      what="a message in the outbox")
    assert stat.S_IMODE(os.stat(outbox).st_mode) == 0o750
    assert stat.S_IMODE(os.stat(outbox / name).st_mode) == 0o640


def test_2_internal_only_listener_sends_no_bounce_outside(make_gateway, sink):
    """A registered device on the internal-only listener sent MAIL FROM an
    external victim and a recipient the next hop refuses: the DSN went to
    the victim, quoting the attacker's whole header block."""
    sink.handler.rcpt_replies = {"nosuch@example.edu": "550 5.1.1 no such user"}
    g = make_gateway().start()
    big = b"".join(b"X-Junk-%d: %s\r\n" % (i, b"y" * 200) for i in range(200))  # 40 KB
    body = big + b"Subject: spam\r\n\r\nbuy now\r\n"
    assert send(g, "mailout-unsecure", "victim@external.example", ["nosuch@example.edu"],
                body)[0] == 250
    g.wait_log(r"event=bounce-suppressed .*to=<victim@external.example> .*"
               r"reason=internal-only-listener")
    # an internal sender on the same listener still gets its DSN, headers only, capped
    assert send(g, "mailout-unsecure", "lab@example.edu", ["nosuch@example.edu"], body)[0] == 250
    [dsn] = sink.wait_messages(1)
    assert dsn["to"] == ["lab@example.edu"]
    assert b"buy now" not in dsn["data"] and b"X-Junk-1:" in dsn["data"]
    assert len(dsn["data"]) < 24 * 1024 and b"the headers were cut here" in dsn["data"]
    time.sleep(1)
    assert all(m["to"] != ["victim@external.example"] for m in sink.messages)


def test_8_a_message_that_passed_too_many_hops_is_refused(gateway, sink):
    """A route pointing back at the gateway relayed one message 1,650 times
    in 5 s. Routes to ourselves are refused now (test_routing.py); a loop
    through other hosts ends at 50 Received: fields (RFC 5321 6.3)."""
    hops = lambda n: b"".join(b"Received: from hop%d by x; Mon, 1 Jan 2026\r\n" % i  # noqa
                              for i in range(n))
    code, lines = send(gateway, "mailout-unsecure", "a@example.edu", ["b@example.edu"],
                       hops(51) + b"Subject: loop\r\n\r\nbody\r\n")
    assert code == 554 and "5.4.6 Too many hops" in lines[0] and "51 Received" in lines[0], lines
    code, _ = send(gateway, "mailout-unsecure", "a@example.edu", ["b@example.edu"],
                   hops(50) + b"Subject: long way\r\n\r\nbody\r\n")
    assert code == 250
    [m] = sink.wait_messages(1)
    assert m["data"].count(b"Received: ") == 51  # theirs and ours
    assert "event=data-refused" in gateway.log() and "reason=loop" in gateway.log()


def test_7_a_revoked_device_cannot_go_on_in_an_open_session(make_gateway, sink):
    """Revoking a connected device refused its new connections, but the open
    session queued three more messages. The registration is checked again
    at every MAIL, and a session has a maximum lifetime."""
    g = make_gateway(listeners={"mailout-unsecure": {"tls": "off", "clients": "registered",
                                                     "recipients": "internal"}},
                     registry={}, gateway={"max_session_time": "10s"}).start()
    g.ctl("device", "add", "127.0.0.5", "--name", "copier", "--owner", "lab@example.edu")
    c = wait_for(lambda: (lambda c: c.greeting[0] == 220 and c)(
        Raw(g.port("mailout-unsecure"), source="127.0.0.5")), what="admitted")
    c.cmd("EHLO copier")

    def one():
        code, lines = c.cmd("MAIL FROM:<copier@example.edu>")
        if code != 250:
            return code, lines
        c.cmd("RCPT TO:<lab@example.edu>")
        c.cmd("DATA")
        c.send(b"Subject: scan\r\n\r\npage\r\n.\r\n")
        return c.reply()
    assert one()[0] == 250
    g.ctl("device", "revoke", "127.0.0.5", "--why", "stolen")
    time.sleep(0.5)
    code, lines = one()
    assert code == 554 and "was revoked: stolen" in lines[0], lines
    assert len(sink.wait_messages(1)) == 1
    time.sleep(0.5)
    assert len(sink.messages) == 1
    # the lifetime: a session (of a client the registry does not concern) ends
    c2 = Raw(g.port("mailout-unsecure"), source="127.0.0.5")
    assert c2.greeting[0] == 554
    g.ctl("device", "approve", "127.0.0.5", "--expires", day(10))
    c3 = wait_for(lambda: (lambda c: c.greeting[0] == 220 and c)(
        Raw(g.port("mailout-unsecure"), source="127.0.0.5")), what="admitted again")
    c3.cmd("EHLO copier")
    time.sleep(10.5)
    code, lines = c3.cmd("MAIL FROM:<copier@example.edu>")
    assert code == 421 and "open too long" in lines[0], lines
