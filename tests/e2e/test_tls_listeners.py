"""Acceptance 1-4 of the core issue: TLS policy per listener."""
import smtplib
import ssl
import subprocess

import pytest

from conftest import strip_received
from smtpraw import Raw, client_context

MSG = (b"From: Alice <alice@example.org>\r\nTo: bob@example.edu\r\nSubject: hello\r\n"
       b"Message-ID: <t1@example.org>\r\n\r\nFirst line.\r\n.leading dot\r\n"
       b"\xc3\xa4 8bit line\r\nlast line\r\n")


def test_required_ehlo_offers_starttls_not_auth(gateway):
    c = Raw(gateway.port("mailout"))
    assert c.greeting[0] == 220
    code, lines = c.cmd("EHLO client.test")
    assert code == 250
    exts = [line[4:].split()[0] for line in lines[1:]]
    assert "STARTTLS" in exts and "PIPELINING" in exts and "ENHANCEDSTATUSCODES" in exts
    assert "AUTH" not in exts
    c.starttls()
    code, lines = c.cmd("EHLO client.test")
    exts = [line[4:].split()[0] for line in lines[1:]]
    assert "STARTTLS" not in exts and "AUTH" not in exts


def test_required_refuses_mail_before_starttls(gateway, sink):
    c = Raw(gateway.port("mailout"))
    c.cmd("EHLO client.test")
    for cmd in ["MAIL FROM:<a@example.org>", "RCPT TO:<b@example.edu>", "DATA", "BDAT 10 LAST",
                "AUTH PLAIN AGFiYwBkZWY="]:
        code, lines = c.cmd(cmd)
        assert code == 530 and lines[0] == "530 5.7.0 Must issue a STARTTLS command first", (
            cmd, lines)
    assert c.cmd("QUIT")[0] == 221
    assert "code=530" in gateway.log() and "tls=none" in gateway.log()
    assert sink.messages == []


def test_required_smtplib_delivers_byte_for_byte(gateway, sink):
    with smtplib.SMTP("127.0.0.1", gateway.port("mailout"), timeout=10) as s:
        s.starttls(context=client_context())
        s.sendmail("alice@example.org", ["bob@example.edu"], MSG)
    m = sink.wait_messages(1)[0]
    assert m["from"] == "alice@example.org" and m["to"] == ["bob@example.edu"]
    assert strip_received(m["data"]) == MSG
    received = m["data"].split(b"\r\n\r\n")[0].decode()
    assert "listener mailout" in received and "TLSv1.3" in received and "ESMTPS" in received
    gateway.wait_log(r"event=delivered .*to=<bob@example.edu>")


def test_required_swaks_tls(gateway, sink):
    r = subprocess.run(["swaks", "--server", f"127.0.0.1:{gateway.port('mailout')}", "--tls",
                        "--from", "alice@example.org", "--to", "carol@example.edu",
                        "--body", "via swaks"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "250 2.0.0 Ok: queued as" in r.stdout
    m = sink.wait_messages(1)[0]
    assert m["to"] == ["carol@example.edu"] and b"via swaks" in m["data"]


def test_required_curl_ssl_reqd(gateway, sink, tmp_path):
    mail = tmp_path / "mail.txt"
    mail.write_bytes(MSG)
    r = subprocess.run(["curl", "-sS", "--ssl-reqd", "-k",
                        f"smtp://127.0.0.1:{gateway.port('mailout')}",
                        "--mail-from", "alice@example.org", "--mail-rcpt", "dave@example.edu",
                        "--upload-file", str(mail)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    m = sink.wait_messages(1)[0]
    assert m["to"] == ["dave@example.edu"] and strip_received(m["data"]) == MSG


def test_implicit_smtplib_swaks_curl(gateway, sink, tmp_path):
    port = gateway.port("mailout-smtps")
    with smtplib.SMTP_SSL("127.0.0.1", port, timeout=10, context=client_context()) as s:
        s.sendmail("alice@example.org", ["e1@example.edu"], MSG)
    r = subprocess.run(["swaks", "--server", f"127.0.0.1:{port}", "--tlsc", "--from",
                        "alice@example.org", "--to", "e2@example.edu"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    mail = tmp_path / "mail.txt"
    mail.write_bytes(MSG)
    r = subprocess.run(["curl", "-sS", "-k", f"smtps://127.0.0.1:{port}", "--mail-from",
                        "alice@example.org", "--mail-rcpt", "e3@example.edu", "--upload-file",
                        str(mail)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    msgs = sink.wait_messages(3)
    assert sorted(m["to"][0] for m in msgs) == ["e1@example.edu", "e2@example.edu",
                                                "e3@example.edu"]
    assert gateway.log().count("listener=mailout-smtps") >= 3


def test_implicit_plaintext_client_gets_no_greeting(gateway):
    c = Raw(gateway.port("mailout-smtps"), greet=False)
    c.send(b"EHLO plain.test\r\n")
    assert c.closed(timeout=10)
    assert not c.buf.startswith(b"220"), c.buf
    gateway.wait_log(r"event=tls-failed .*listener=mailout-smtps")


def _s_client(port, *args, stdin=b""):
    return subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
                           "-starttls", "smtp", "-crlf", "-quiet", *args],
                          input=stdin, capture_output=True, timeout=30)


def test_min_tls_12_refuses_tls11(gateway):
    r = _s_client(gateway.port("mailout"), "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0",
                  stdin=b"QUIT\n")
    assert r.returncode != 0
    assert b"250 " not in r.stdout.split(b"STARTTLS")[-1]
    gateway.wait_log(r"event=tls-failed .*listener=mailout ")


def test_min_tls_10_accepts_old_client(make_gateway, sink):
    g = make_gateway(listeners={"legacy": {"tls": "required", "min_tls_version": "1.0"}})
    g.start()
    script = (b"EHLO copier.test\nMAIL FROM:<scan@example.edu>\nRCPT TO:<bob@example.edu>\n"
              b"DATA\nSubject: scan\n\nscanned page\n.\nQUIT\n")
    r = _s_client(g.port("legacy"), "-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0", stdin=script)
    out = r.stdout.decode(errors="replace")
    assert "250 2.0.0 Ok: queued as" in out, out + r.stderr.decode(errors="replace")
    m = sink.wait_messages(1)[0]
    assert b"scanned page" in m["data"] and b"TLSv1/AES128-SHA" in m["data"]
    g.wait_log(r"event=tls .*tls=TLSv1/AES128-SHA")


def test_ecdsa_and_rsa_certificates(gateway):
    for cipher, keytype in (("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDSA"),
                            ("ECDHE-RSA-AES128-GCM-SHA256", "RSA")):
        ctx = client_context(maximum=ssl.TLSVersion.TLSv1_2, ciphers=cipher)
        c = Raw(gateway.port("mailout"))
        c.cmd("EHLO c.test")
        s = c.starttls(ctx)
        assert s.cipher()[0] == cipher, (keytype, s.cipher())
        c.cmd("QUIT")


def test_starttls_injection(gateway):
    c = Raw(gateway.port("mailout"))
    c.cmd("EHLO client.test")
    c.send(b"STARTTLS\r\nRSET\r\n")
    code, lines = c.reply()
    assert code == 220
    c.sock = client_context().wrap_socket(c.sock)
    # The injected RSET must never be answered: the first reply after the
    # handshake must belong to our next command.
    code, lines = c.cmd("NOOP")
    assert code == 250 and lines == ["250 2.0.0 Ok"], lines
    # and state learned before STARTTLS is gone: MAIL needs a new EHLO
    code, lines = c.cmd("MAIL FROM:<a@example.org>")
    assert code == 503, lines
    gateway.wait_log(r"event=starttls-injection .*discarded=6")


def test_second_starttls_refused(gateway):
    c = Raw(gateway.port("mailout"))
    c.cmd("EHLO client.test")
    c.starttls()
    c.cmd("EHLO client.test")
    code, lines = c.cmd("STARTTLS")
    assert code == 503 and "TLS already active" in lines[0]


def _smtps_session(gateway, ctx, source, session=None):
    """One implicit-TLS connection from source: (its session, whether it resumed)."""
    import socket
    raw = socket.create_connection(("127.0.0.1", gateway.port("mailout-smtps")), timeout=10,
                                   source_address=(source, 0))
    s = ctx.wrap_socket(raw, session=session)
    assert s.recv(1024).startswith(b"220 ")  # the ticket, if any, came before the greeting
    s.sendall(b"QUIT\r\n")
    s.recv(1024)
    session, reused = s.session, s.session_reused
    s.close()
    return session, reused


def test_tls13_resumption(gateway):
    """A TLS 1.3 ticket from one connection resumes the next, which gets a
    fresh ticket again (stateless tickets, shared by all workers)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    sess, reused = _smtps_session(gateway, ctx, "127.0.0.31")
    assert sess.has_ticket and not reused
    for _ in range(3):
        sess, reused = _smtps_session(gateway, ctx, "127.0.0.31", session=sess)
        assert reused and sess.has_ticket
    assert gateway.log().count("resumed=yes") == 3


@pytest.mark.parametrize("how", ["starttls", "implicit"])
def test_quit_ends_tls_with_close_notify(gateway, how):
    """RFC 8446 6.1: the server sends close_notify before it closes, so a
    client that does not forgive a missing one sees a clean end of TLS,
    not a truncation (ssl.SSLEOFError)."""
    ctx = client_context()
    ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF  # Python forgives a missing one by default
    if how == "implicit":
        c = Raw(gateway.port("mailout-smtps"), implicit=True, ctx=ctx,
                suppress_ragged_eofs=False)
    else:
        c = Raw(gateway.port("mailout"))
        c.cmd("EHLO c.test")
        c.starttls(ctx, suppress_ragged_eofs=False)
    assert c.cmd("EHLO c.test")[0] == 250
    code, lines = c.cmd("QUIT")
    assert code == 221, lines
    assert c.sock.recv(100) == b""
