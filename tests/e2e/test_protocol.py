"""Acceptance 5-7 of the core issue: smuggling, limits, internal recipients."""
import socket
import time

import pytest

from smtpraw import Raw, tls_session as _tls_session


def tls_session(gateway, helo="client.test"):
    return _tls_session(gateway.port("mailout"), helo)


def begin(c, rcpts=("bob@example.edu",), sender="alice@example.org"):
    assert c.cmd(f"MAIL FROM:<{sender}>")[0] == 250
    for r in rcpts:
        assert c.cmd(f"RCPT TO:<{r}>")[0] == 250
    assert c.cmd("DATA")[0] == 354


@pytest.mark.parametrize("trick", [b"\n.\n", b"\r.\r", b"\n.\r\n", b"\r\n.\n", b"\r\n.\r"])
def test_smuggling_is_one_message(gateway, sink, trick):
    c = tls_session(gateway)
    begin(c)
    body = (b"Subject: part one\r\n\r\nfirst" + trick +
            b"MAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.edu>\r\nDATA\r\n"
            b"Subject: smuggled\r\n\r\nsecond\r\n.\r\n")
    c.send(body)
    code, lines = c.reply()
    assert code == 250 and "queued as" in lines[0], lines
    # anything the client pipelined after the real end is a command again
    assert c.cmd("QUIT")[0] == 221
    msgs = sink.wait_messages(1)
    time.sleep(1.0)
    msgs = sink.messages
    assert len(msgs) == 1, msgs
    assert msgs[0]["to"] == ["bob@example.edu"]
    assert b"smuggled" in msgs[0]["data"] and b"victim" in msgs[0]["data"]


def test_dot_stuffing_round_trip(gateway, sink):
    c = tls_session(gateway)
    begin(c)
    c.send(b"Subject: dots\r\n\r\n..one dot\r\n...two dots\r\n.\r\n")
    assert c.reply()[0] == 250
    m = sink.wait_messages(1)[0]
    assert m["data"].endswith(b"\r\n.one dot\r\n..two dots\r\n")


def test_pipelined_commands_in_one_write(gateway, sink):
    c = tls_session(gateway)
    c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<p1@example.edu>\r\nRCPT TO:<p2@example.edu>\r\n"
           b"DATA\r\n")
    assert [c.reply()[0] for _ in range(4)] == [250, 250, 250, 354]
    c.send(b"Subject: piped\r\n\r\nbody\r\n.\r\nMAIL FROM:<a@example.org>\r\nRSET\r\nQUIT\r\n")
    assert [c.reply()[0] for _ in range(4)] == [250, 250, 250, 221]
    m = sink.wait_messages(1)[0]
    assert sorted(m["to"]) == ["p1@example.edu", "p2@example.edu"]


def test_declared_and_actual_size_limit(make_gateway, sink):
    g = make_gateway(gateway={"max_message_size": "2K"}).start()
    c = tls_session(g)
    code, lines = c.cmd("MAIL FROM:<a@example.org> SIZE=5000")
    assert code == 552 and lines[0].startswith("552 5.3.4"), lines
    begin(c)
    c.send(b"Subject: big\r\n\r\n" + (b"x" * 70 + b"\r\n") * 60 + b".\r\n")
    code, lines = c.reply()
    assert code == 552 and lines[0].startswith("552 5.3.4"), lines
    # the session is still usable and nothing was spooled
    assert c.cmd("NOOP")[0] == 250
    begin(c)
    c.send(b"Subject: small\r\n\r\nok\r\n.\r\n")
    assert c.reply()[0] == 250
    msgs = sink.wait_messages(1)
    time.sleep(0.5)
    assert len(sink.messages) == 1 and b"small" in msgs[0]["data"]


def test_recipient_limit(make_gateway):
    g = make_gateway(gateway={"max_recipients": "3"}).start()
    c = tls_session(g)
    c.cmd("MAIL FROM:<a@example.org>")
    for i in range(3):
        assert c.cmd(f"RCPT TO:<r{i}@example.edu>")[0] == 250
    code, lines = c.cmd("RCPT TO:<r9@example.edu>")
    assert code == 452 and lines[0].startswith("452 4.5.3"), lines


def test_command_line_too_long(gateway):
    c = Raw(gateway.port("mailout"))
    code, lines = c.cmd("NOOP " + "x" * 5000)
    assert code == 500 and lines[0].startswith("500 5.5.2"), lines
    assert c.cmd("NOOP")[0] == 250  # still in sync


def test_text_line_too_long(gateway, sink):
    c = tls_session(gateway)
    begin(c)
    c.send(b"Subject: long\r\n\r\n" + b"y" * 1200 + b"\r\n.\r\n")
    code, lines = c.reply()
    assert code == 554 and lines[0].startswith("554 5.6.0"), lines
    time.sleep(0.5)
    assert sink.messages == []


def test_one_megabyte_without_line_end(gateway):
    c = Raw(gateway.port("mailout"))
    c.send(b"A" * (1 << 20))
    code, lines = c.reply()
    assert code == 500
    c.send(b"\r\n")
    assert c.cmd("NOOP")[0] in (250, 421)


def test_bare_lf_in_command_refused(gateway):
    c = Raw(gateway.port("mailout"))
    c.send(b"NOOP\nNOOP\r\n")
    code, lines = c.reply()
    assert code == 500 and "bare CR or LF" in lines[0], lines


def test_idle_timeout(make_gateway):
    g = make_gateway(gateway={"idle_timeout": "2s"}).start()
    c = Raw(g.port("mailout"))
    t0 = time.time()
    code, lines = c.reply()
    assert code == 421 and lines[0].startswith("421 4.4.2"), lines
    assert 1.5 < time.time() - t0 < 6
    assert c.closed()


def test_per_client_connection_limit(make_gateway):
    g = make_gateway(gateway={"max_client_connections": "2"}).start()
    # a source of its own: the fixture's readiness probes come from 127.0.0.1
    a, b = Raw(g.port("mailout"), source="127.0.0.8"), Raw(g.port("mailout"), source="127.0.0.8")
    assert a.greeting[0] == 220 and b.greeting[0] == 220
    c = Raw(g.port("mailout"), source="127.0.0.8", greet=False)
    code, lines = c.reply()
    assert code == 421 and lines[0].startswith("421 4.7.0"), lines
    assert c.closed()
    # another client address is not affected
    d = Raw(g.port("mailout"), source="127.0.0.9")
    assert d.greeting[0] == 220
    a.close()
    time.sleep(0.3)
    e = Raw(g.port("mailout"), source="127.0.0.8")
    assert e.greeting[0] == 220
    b.close()


def test_error_limit_disconnects(make_gateway):
    g = make_gateway(gateway={"max_errors": "3"}).start()
    c = Raw(g.port("mailout"))
    for _ in range(2):
        assert c.cmd("BOGUS")[0] == 502
    c.send(b"BOGUS\r\n")
    assert c.reply()[0] == 502
    code, lines = c.reply()
    assert code == 421, lines
    assert c.closed()


def test_clients_cidr_refused_at_connect(make_gateway):
    g = make_gateway(listeners={"mailout": {"tls": "required", "clients": "127.0.0.5/32"}}).start()
    ok = Raw(g.port("mailout"), source="127.0.0.5")
    assert ok.greeting[0] == 220
    bad = Raw(g.port("mailout"), source="127.0.0.6")
    code, lines = bad.greeting
    assert code == 554 and lines[0].startswith("554 5.7.1") and "127.0.0.6" in lines[0], lines
    assert bad.cmd("EHLO x")[0] == 503
    assert bad.cmd("QUIT")[0] == 221
    g.wait_log(r"event=refuse-client .*client=127.0.0.6")


INTERNAL_OK = ["bob@example.edu", "x@sub.example.edu", "Bob@EXAMPLE.EDU", "bob@example.edu.",
               "a@deep.sub.Example.Edu"]
REFUSED = [
    ("user@gmail.com", 550),
    ("user%ext.com@example.edu", 550),
    ("@example.edu:user@ext.com", 550),
    ('"user@ext.com"@example.edu', 550),
    ("user@example.edu.evil.com", 550),
    ("user@evil-example.edu", 550),
    ("user@[127.0.0.1]", 550),
    ("user!ext.com@example.edu", 550),
    ("user@example..edu", 501),
]


def test_internal_recipients_and_tricks(gateway, sink):
    c = Raw(gateway.port("mailout-unsecure"))
    c.cmd("EHLO copier.test")
    assert c.cmd("MAIL FROM:<scanner@example.edu>")[0] == 250
    for addr in INTERNAL_OK:
        code, lines = c.cmd(f"RCPT TO:<{addr}>")
        assert code == 250, (addr, lines)
    for addr, want in REFUSED:
        code, lines = c.cmd(f"RCPT TO:<{addr}>")
        assert code == want, (addr, lines)
        if want == 550:
            assert lines[0].startswith("550 5.7.1"), lines
    c.cmd("RSET")
    # a fresh transaction: the normalised forms reach the next hop
    assert c.cmd("MAIL FROM:<scanner@example.edu>")[0] == 250
    assert c.cmd("RCPT TO:<Bob@EXAMPLE.EDU.>")[0] == 250
    assert c.cmd("RCPT TO:<@relay.example.edu:carol@Sub.Example.edu>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: scan\r\n\r\npage\r\n.\r\n")
    assert c.reply()[0] == 250
    m = sink.wait_messages(1)[0]
    assert sorted(m["to"]) == ["Bob@example.edu", "carol@sub.example.edu"]
    assert b"no TLS" in m["data"] and b"listener mailout-unsecure" in m["data"]


def test_unsecure_listener_offers_no_starttls(gateway):
    c = Raw(gateway.port("mailout-unsecure"))
    code, lines = c.cmd("EHLO copier.test")
    assert not any("STARTTLS" in l for l in lines)
    assert c.cmd("STARTTLS")[0] == 502
    assert c.cmd("AUTH PLAIN AGFiYwBkZWY=")[0] == 502


def test_null_sender_and_bad_syntax(gateway):
    c = tls_session(gateway)
    assert c.cmd("MAIL FROM:<>")[0] == 250
    assert c.cmd("RCPT TO:<>")[0] == 501
    assert c.cmd("RSET")[0] == 250
    code, lines = c.cmd("MAIL FROM:<a@b.example> BODY=BINARYMIME")
    assert code == 501, lines
    code, lines = c.cmd("MAIL FROM:<a@b.example> FOO=BAR")
    assert code == 555, lines
    code, lines = c.cmd("MAIL FROM:<jürgen@example.org>")
    assert code == 553 and "SMTPUTF8" in lines[0], lines
    assert c.cmd("MAIL FROM:<jürgen@exämple.org> SMTPUTF8")[0] == 250
    assert c.cmd("VRFY bob")[0] == 252
    assert c.cmd("HELP")[0] == 214


def test_utf8_recipients_with_smtplib_send_message(gateway, sink):
    """Correctness issue, protocol: RCPT was parsed with its own line's
    SMTPUTF8 flag, so every UTF-8 recipient got 553 although SMTPUTF8 is
    advertised. Python's send_message adds SMTPUTF8 to MAIL by itself; on
    an internal-only listener, an IDN domain is internal in A-label form."""
    import email.message
    import smtplib

    msg = email.message.EmailMessage()
    msg["From"] = "scanner@example.edu"
    msg["To"] = "jürgen@example.edu, you@münchen.example.edu"
    msg["Subject"] = "Grüße"
    msg.set_content("eine Seite\n")
    with smtplib.SMTP("127.0.0.1", gateway.port("mailout-unsecure"), timeout=10) as s:
        assert s.send_message(msg) == {}
        # a UTF-8 recipient outside the internal domains is still refused
        msg.replace_header("To", "you@münchen.example.org")
        with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
            s.send_message(msg)
        assert e.value.recipients["you@münchen.example.org"][0] == 550
    [m] = sink.wait_messages(1)
    assert sorted(m["to"]) == ["jürgen@example.edu", "you@xn--mnchen-3ya.example.edu"]
    assert b"UTF8SMTP" in m["data"]  # Received: ... with UTF8SMTP (RFC 6531 4.3)


def test_postmaster_without_domain(make_gateway, sink):
    """RFC 5321 4.5.1: RCPT TO:<postmaster> must be accepted; it goes to
    [gateway] postmaster."""
    g = make_gateway(gateway={"postmaster": "mail-admins@example.edu"}).start()
    c = Raw(g.port("mailout-unsecure"))
    c.cmd("EHLO t.test")
    c.cmd("MAIL FROM:<a@example.org>")
    code, lines = c.cmd("RCPT TO:<Postmaster>")
    assert code == 250 and "mail-admins@example.edu" in lines[0], lines
    assert c.cmd("RCPT TO:<root>")[0] == 501
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: hello postmaster\r\n\r\nhi\r\n.\r\n")
    assert c.reply()[0] == 250
    c.cmd("QUIT")
    [m] = sink.wait_messages(1)
    assert m["to"] == ["mail-admins@example.edu"]
    # without the key: postmaster@ the first internal domain
    assert "postmaster: postmaster@example.edu" in make_gateway().ctl("check").stdout
