"""/metrics (issue #16): a scripted run against a running mailoutd, then
the Prometheus text checked by promtool and its counters compared with what
the test did. 127.0.0.1 plays the monitoring server, 127.0.0.9 an address
that may not read the metrics, 127.0.0.5 a registered copier and 127.0.0.6
an unregistered one."""
import calendar
import datetime
import os
import re
import smtplib
import subprocess
import urllib.request

import pytest

from conftest import ROOT, day, wait_for
from smtpraw import Raw, client_context, tls_session

MSG = b"Subject: metrics\r\n\r\nhello\r\n"
CUTOVER = day(400)  # relative to the gateway's clock: the test passes on any day
LISTENERS = {
    "mailout": {"tls": "required", "auth": "optional"},
    "mailout-smtps": {"tls": "implicit"},
    "mailout-unsecure": {"tls": "off", "clients": "registered", "recipients": "internal"},
}


def promtool():
    return subprocess.run([os.path.join(ROOT, "scripts", "promtool.sh")], capture_output=True,
                          text=True, check=True).stdout.strip()


def scrape(gw, source="127.0.0.1"):
    from webclient import WebClient
    status, headers, text = WebClient(gw.web_url, source=source).get("/metrics")
    return status, headers, text


def value(text, name, **labels):
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    line = f"{name}{{{want}}}" if labels else name
    for l in text.splitlines():
        if l.startswith(line + " "):
            return float(l.split()[-1])
    raise AssertionError(f"{line} not in:\n{text}")


def test_metrics_count_a_scripted_run(make_gateway, sink, tmp_path):
    from test_auth import FILE_PASSWORD, FILE_USER, b64, file_auth
    gw = make_gateway(listeners=LISTENERS, registry={}, auth=file_auth(str(tmp_path)),
                      web={"clients": "127.0.0.0/8", "cutover": CUTOVER}).start()
    gw.ctl("device", "add", "127.0.0.5", "--name", "copier", "--owner", "lab@example.edu")
    port = gw.port("mailout")
    base = scrape(gw)[2]  # after start()'s port probes
    # 3 messages over STARTTLS (one of them with two recipients), 1 over implicit TLS
    for i in range(3):
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
            s.starttls(context=client_context())
            s.sendmail("app@example.edu", [f"r{i}@example.org"] + (["x@example.org"] if i == 0
                                                                    else []), MSG)
    with smtplib.SMTP_SSL("127.0.0.1", gw.port("mailout-smtps"), timeout=10,
                          context=client_context()) as s:
        s.sendmail("app@example.edu", ["r3@example.org"], MSG)
    # MAIL before STARTTLS: 530; a plaintext session that ends without TLS
    c = Raw(port)
    c.cmd("EHLO plain.test")
    assert c.cmd("MAIL FROM:<a@example.edu>")[0] == 530
    c.cmd("QUIT")
    # AUTH: one right password, one wrong
    for pw, code in ((FILE_PASSWORD, 235), ("wrong-pw-77", 535)):
        c = tls_session(port)
        assert c.cmd("AUTH PLAIN " + b64(f"\0{FILE_USER}\0{pw}"))[0] == code
        c.cmd("QUIT")
    # the copier: one internal message, one external recipient refused
    wait_for(lambda: Raw(gw.port("mailout-unsecure"), source="127.0.0.5").greeting[0] == 220,
             what="registration in force")
    with smtplib.SMTP("127.0.0.1", gw.port("mailout-unsecure"), timeout=10,
                      source_address=("127.0.0.5", 0)) as s:
        s.ehlo("copier.test")
        s.mail("copier@example.edu")
        assert s.rcpt("friend@gmail.com")[0] == 550
        assert s.rcpt("staff@example.edu")[0] == 250
        s.data(MSG)
    # an unregistered device is refused at connect
    assert Raw(gw.port("mailout-unsecure"), source="127.0.0.6").greeting[0] == 554
    # a handshake that fails: plaintext on the implicit-TLS port
    r = Raw(gw.port("mailout-smtps"), greet=False)
    r.send(b"EHLO plain.test\r\n")
    assert r.closed(timeout=10)
    sink.wait_messages(5)
    wait_for(lambda: value(scrape(gw)[2], "mailout_queue_messages") == 0, 15,
             what="an empty queue in the metrics")
    wait_for(lambda: value(scrape(gw)[2], "mailout_sessions_active", listener="mailout") == 0,
             10, what="sessions ended")

    status, headers, text = scrape(gw)
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    r = subprocess.run([promtool(), "check", "metrics"], input=text, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout + r.stderr + text
    def v(name, **labels):  # what the script did: now less before
        try:
            before = value(base, name, **labels)
        except AssertionError:
            before = 0
        return value(text, name, **labels) - before
    assert v("mailout_sessions_total", listener="mailout", tls="TLSv1.3") == 5
    assert v("mailout_auth_total", result="ok") == 1 and v("mailout_auth_total", result="failed") == 1
    assert v("mailout_sessions_total", listener="mailout", tls="none") == 1
    assert v("mailout_sessions_total", listener="mailout-smtps", tls="TLSv1.3") == 1
    assert v("mailout_sessions_total", listener="mailout-smtps", tls="handshake-failed") == 1
    # the copier's two sessions (wait_for's greeting, the message), the unregistered one
    assert v("mailout_sessions_total", listener="mailout-unsecure", tls="none") >= 3
    assert v("mailout_messages_accepted_total", listener="mailout") == 3
    assert v("mailout_messages_accepted_total", listener="mailout-smtps") == 1
    assert v("mailout_messages_accepted_total", listener="mailout-unsecure") == 1
    assert v("mailout_refusals_total", reason="tls-required") == 1
    assert v("mailout_refusals_total", reason="recipient") == 1
    assert v("mailout_refusals_total", reason="client") == 1
    hop = re.search(r'mailout_deliveries_total\{next_hop="([^"]+)",result="delivered"\} (\d+)',
                    text)
    assert hop and int(hop.group(2)) == 6, text  # 6 recipients, each delivered once
    assert hop.group(1) == "127.0.0.1"  # the relay the recipients went to
    assert value(text, "mailout_devices", status="approved") == 1
    assert value(text, "mailout_devices", status="pending") == 0
    assert value(text, "mailout_transition_remaining_seconds", date="cutover") > 0
    assert value(text, "mailout_transition_date_seconds", date="cutover") == calendar.timegm(
        datetime.date.fromisoformat(CUTOVER).timetuple())
    assert value(text, "mailout_transition_phase", phase="none") == 1  # dates shown only
    # only the monitoring addresses
    assert scrape(gw, source="127.0.0.9")[0] == 403


def test_grafana_dashboard_uses_only_exported_metrics():
    import json
    dash = json.load(open(os.path.join(ROOT, "doc", "grafana-mailout.json")))
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    names = set(re.findall(r"mailout_[a-z_]+", " ".join(exprs)))
    exported = set(re.findall(r'head\(b, "(mailout_[a-z_]+)"',
                              open(os.path.join(ROOT, "src", "metrics", "expo.c")).read()))
    assert names and names <= exported, names - exported
