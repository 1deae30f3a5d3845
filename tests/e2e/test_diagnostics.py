"""Handshake diagnostics (issue #17): a failed TLS handshake says what the
client offered and what to do, in the log, in `report sessions` and on
/check. Clients: openssl s_client limited to TLS 1.0 (a copier of about
2012), a plaintext client on the implicit-TLS port, and a TLS client on the
STARTTLS port (the device set to "SSL" on 587)."""
import json
import socket
import ssl
import subprocess

from conftest import wait_for
from smtpraw import Raw
from webclient import WebClient

LISTENERS = {
    "mailout": {"tls": "required"},
    "mailout-smtps": {"tls": "implicit"},
}


def sessions(gw, client):
    return json.loads(gw.ctl("report", "sessions", client, "--json").stdout)


def results(gw, client, n):
    return wait_for(lambda: (lambda r: len(r) >= n and r)(sessions(gw, client)), 15,
                    what=f"{n} session(s) of {client}")


def test_tls10_only_client_is_told_why(make_gateway):
    gw = make_gateway(listeners=LISTENERS, registry={},
                      web={"clients": "127.0.0.0/8"}).start()
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{gw.port('mailout-smtps')}",
                        "-tls1", "-cipher", "DEFAULT@SECLEVEL=0", "-quiet"],
                       input=b"QUIT\r\n", capture_output=True, timeout=30)
    assert r.returncode != 0
    gw.wait_log(r'event=tls-failed .*offered="offers only TLS 1\.0 \(')
    rows = results(gw, "127.0.0.1", 1)
    text = rows[0]["result"]
    assert text.startswith("TLS handshake failed: offers only TLS 1.0 (") and \
        "a firmware update is needed, or register it with legacy TLS" in text, rows
    assert rows[0]["tls"] == "handshake-failed"
    # the device operator reads it on /check (acceptance 3)
    page = WebClient(gw.web_url).get("/check?address=127.0.0.1")[2]
    assert "offers only TLS 1.0 (" in page, page[:3000]


def test_plaintext_on_implicit_port_and_tls_on_starttls_port(make_gateway):
    gw = make_gateway(listeners=LISTENERS, registry={}).start()
    c = Raw(gw.port("mailout-smtps"), source="127.0.0.8", greet=False)
    c.send(b"EHLO copier.test\r\n")
    assert c.closed(timeout=10)
    rows = results(gw, "127.0.0.8", 1)
    assert "plaintext on the implicit-TLS port" in rows[0]["result"], rows
    # a device set to "SSL" on the STARTTLS port: its ClientHello meets our greeting
    raw = socket.create_connection(("127.0.0.1", gw.port("mailout")), timeout=10,
                                   source_address=("127.0.0.9", 0))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        ctx.wrap_socket(raw)
    except (ssl.SSLError, OSError):
        pass  # it reads "220 ..." as a TLS record
    raw.close()
    rows = results(gw, "127.0.0.9", 1)
    assert "a TLS ClientHello on a port without implicit TLS" in rows[0]["result"], rows
    assert rows[0]["tls"] == "handshake-failed"
