"""A scripted migration (issue #17, the tests): one gateway, its spool and
registry kept, restarted with its clock (util/clock.h) in each phase of
the calendar; 20 clients send in each phase — plaintext, TLS 1.3 over
STARTTLS, TLS 1.0 only on the implicit-TLS port, registered devices on the
unencrypted interface, unregistered ones there. The replies, the warning
header and the counters match each phase; the reminders arrive once each;
`report transition` suggests the right action for each device; the guide
is shot in Chromium in each phase in both languages."""
import json
import re
import smtplib
import subprocess

import pytest

from conftest import CLOCK_OFFSET, day, prose, wait_for
from smtpraw import Raw, client_context
from test_web import browser, shot  # noqa: F401
from webclient import WebClient

pytestmark = pytest.mark.dates

LISTENERS = {
    "mailout": {"tls": "required", "clients": "127.0.0.0/8"},
    "mailout-smtps": {"tls": "implicit", "clients": "127.0.0.0/8"},
    "mailout-unsecure": {"tls": "off", "clients": "registered", "recipients": "internal"},
}
PLAIN = [f"127.0.1.{i}" for i in range(1, 5)]        # in clear on tls = required
TLS13 = [f"127.0.1.{i}" for i in range(11, 15)]      # STARTTLS, TLS 1.3
TLS10 = [f"127.0.1.{i}" for i in range(21, 25)]      # only TLS 1.0, on the implicit port
REGISTERED = [f"127.0.1.{i}" for i in range(31, 35)]  # on the unencrypted interface
STRANGERS = [f"127.0.1.{i}" for i in range(41, 45)]   # unregistered, there too
# the calendar, as days from the test's "now"; the gateway runs at these days
DATES = {"register_from": -10, "warn_from": 10, "tempfail_from": 20, "cutover": 30, "end": 60}
PHASES = [("open", 0), ("warn", 12), ("tempfail", 22), ("refuse", 32)]
MSG = b"Subject: scan\r\n\r\npage 1\r\n"
PROBE = 1


def at_day(gw, days):
    """Start (or restart) the gateway with its clock days ahead."""
    gw.stop()
    gw.env["MAILOUT_CLOCK_OFFSET"] = f"{CLOCK_OFFSET + days * 86400}s"
    return gw.start()


def plain_mail(gw, src):
    """MAIL in clear to the tls = required listener: (code, the reply to MAIL)."""
    c = Raw(gw.port("mailout"), source=src)
    c.cmd("EHLO copier.test")
    code, lines = c.cmd(f"MAIL FROM:<scan-{src}@example.edu>")
    if code == 250:
        c.cmd(f"RCPT TO:<staff@example.edu>")
        c.cmd("DATA")
        c.send(MSG + b".\r\n")
        code2, _ = c.reply()
        assert code2 == 250
    c.close()
    return code, lines[0]


def tls_mail(gw, src):
    with smtplib.SMTP("127.0.0.1", gw.port("mailout"), timeout=10,
                      source_address=(src, 0)) as s:
        s.starttls(context=client_context())
        s.sendmail(f"scan-{src}@example.edu", ["staff@example.edu"], MSG)
        return s.sock.version()


def tls10_attempt(gw, src):
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{gw.port('mailout-smtps')}",
                        "-bind", f"{src}:0", "-tls1", "-cipher", "DEFAULT@SECLEVEL=0", "-quiet"],
                       input=b"QUIT\r\n", capture_output=True, timeout=30)
    return r.returncode


def unsecure_mail(gw, src):
    with smtplib.SMTP("127.0.0.1", gw.port("mailout-unsecure"), timeout=10,
                      source_address=(src, 0)) as s:
        s.sendmail(f"scan-{src}@example.edu", ["staff@example.edu"], MSG)


def stranger_greeting(gw, src):
    return Raw(gw.port("mailout-unsecure"), source=src).greeting[0]


def metrics(gw):
    text = WebClient(gw.web_url).get("/metrics")[2]
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def from_sink(sink, src):
    return [m for m in sink.messages if m["from"] == f"scan-{src}@example.edu"]


def test_scripted_migration_through_every_phase(make_gateway, sink, browser):
    transition = {k: day(v) for k, v in DATES.items()}
    transition.update({"help_url": "https://mailout.test/", "remind": "30d 7d 1d",
                       "admins": "mail-admins@example.edu"})
    gw = make_gateway(listeners=LISTENERS, registry={}, transition=transition,
                      web={"clients": "127.0.0.0/8", "metrics_clients": "127.0.0.1",
                           "support": "IT service desk, https://help.example.edu/"})
    gw.start()
    owners = {}
    for i, addr in enumerate(REGISTERED):
        owners[addr] = f"owner{i}@example.edu"
        expires = day(18) if i == 1 else day(45)  # the second runs out in the tempfail phase
        gw.ctl("device", "add", addr, "--name", f"copier {i}", "--owner", owners[addr],
               "--expires", expires, "--language", "de" if i % 2 else "en")
    gw.stop()

    for phase, days in PHASES:
        log_start = len(gw.log())
        at_day(gw, days)
        before = len(sink.messages)
        # plaintext on tls = required: accept, warn, 450, 530
        for src in PLAIN:
            code, line = plain_mail(gw, src)
            want = {"open": 250, "warn": 250, "tempfail": 450, "refuse": 530}[phase]
            assert code == want, (phase, src, line)
            if phase == "warn":
                assert f"warning: unencrypted; from {transition['cutover']}" in line, line
            if phase == "tempfail":
                assert "450 4.7.0" in line and transition["cutover"] in line
        # TLS 1.3 over STARTTLS: always fine
        for src in TLS13:
            assert tls_mail(gw, src) == "TLSv1.3"
        # TLS 1.0 only: refused at the handshake, always
        for src in TLS10:
            assert tls10_attempt(gw, src) != 0
        # registered devices (the third has moved to STARTTLS since the warn phase)
        for i, src in enumerate(REGISTERED):
            if i == 3:
                continue  # never used
            if i == 2 and phase != "open":
                tls_mail(gw, src)
            elif i == 1 and phase in ("tempfail", "refuse"):
                with pytest.raises(smtplib.SMTPConnectError):  # its registration ran out
                    unsecure_mail(gw, src)
            else:
                unsecure_mail(gw, src)
        for src in STRANGERS:
            assert stranger_greeting(gw, src) == 554
        # what arrived: the warning header only on plaintext in the warn phase
        n_plain = 4 if phase in ("open", "warn") else 0
        n_registered = 3 if phase == "open" else 2 if phase == "warn" else 1
        n_reg_tls = 0 if phase == "open" else 1
        want = n_plain + len(TLS13) + n_registered + n_reg_tls
        wait_for(lambda: len(sink.messages) - before >= want, 20, what=f"{phase}: {want} mails")
        new = sink.messages[before:]
        warned = [m for m in new if b"X-Mailout-Warning:" in m["data"]]
        assert len(warned) == (4 if phase == "warn" else 0), phase
        assert all(m["from"].split("-", 1)[1].split("@")[0] in PLAIN for m in warned)
        # the counters of this run (a new process per phase)
        m = metrics(gw)
        refused_tls = m.get('mailout_refusals_total{reason="tls-required"}', 0)
        assert refused_tls == (4 if phase in ("tempfail", "refuse") else 0), (phase, refused_tls)
        # (+ PROBE: the fixture's one readiness connection to each listener at start)
        assert m['mailout_sessions_total{listener="mailout-smtps",tls="handshake-failed"}'] == \
            4 + PROBE
        # the readiness connection to the unencrypted listener gets 554, or 421 (not a
        # refusal) when it came before the worker's first registry snapshot
        probe = re.findall(r"event=refuse-client .*listener=mailout-unsecure client=127\.0\.0\.1 "
                           r".*code=(\d+)", gw.log()[log_start:])
        assert probe and set(probe) <= {"554", "421"}, probe
        assert m.get('mailout_refusals_total{reason="client"}', 0) == \
            4 + probe.count("554") + (1 if phase in ("tempfail", "refuse") else 0)
        assert m[f'mailout_transition_phase{{phase="{phase}"}}'] == 1, phase
        # the guide in this phase, both languages
        browser.set_window_size(1280, 1000)
        for lang in ("en", "de"):
            browser.get(f"{gw.web_url}/?lang={lang}")
            shot(browser, f"migration-{phase}-{lang}.png")
        text = browser.find_element("tag name", "body").text
        assert prose(transition["cutover"], "de") in text
        # the reminders, twice: each once
        if phase in ("warn", "tempfail"):
            first = gw.ctl("notify").stdout
            assert gw.ctl("notify").stdout.strip().endswith("0 sent")
            if phase == "warn":
                assert "remind 7d registration 2 to owner1@example.edu" in first, first
            else:
                assert "expired registration 2 to owner1@example.edu" in first, first
        gw.stop()

    # each reminder arrived once
    reminders = [m for m in sink.messages if m["to"] == ["owner1@example.edu"]]
    subjects = [next(line for line in m["data"].decode().split("\r\n")
                     if line.startswith("Subject:")) for m in reminders]
    assert len(reminders) == len(set(subjects)) >= 2, subjects
    # the TLS 1.0 clients were told why
    at_day(gw, 33)
    rows = json.loads(gw.ctl("report", "sessions", TLS10[0], "--json").stdout)
    assert rows and rows[0]["result"].startswith("TLS handshake failed: offers only TLS 1.0 (")
    # the re-evaluation, at the end of the transition
    report = {r["address"]: r for r in
              json.loads(gw.ctl("report", "transition", "--json").stdout)}
    assert report[REGISTERED[0]]["action"] == "renew-or-replace"
    assert report[REGISTERED[2]]["action"] == "end-exception"
    assert report[REGISTERED[3]]["action"] == "let-expire"
    page = WebClient(gw.web_url).get(f"/check?address={TLS10[0]}&lang=de")[2]
    assert "bietet nur TLS 1.0" in page
