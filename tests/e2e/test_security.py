"""The security review's findings (security issue): each test fails on the
code before its fix. Finding 1 is in test_daemon.py, 5 in test_flood.py."""
import os
import pathlib
import stat
import time

import pytest

from conftest import wait_for
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
