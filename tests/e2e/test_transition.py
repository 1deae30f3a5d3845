"""The migration calendar (issue #17, acceptance 1): a `tls = required`
listener moves through accept -> warn -> tempfail -> refuse at midnight UTC
of the configured dates, without a reload. Each gateway starts with its
clock (util/clock.h, MAILOUT_CLOCK_OFFSET) two seconds before one of the
dates; the test sends plaintext before and after that midnight."""
import calendar
import datetime
import smtplib
import subprocess
import time

import pytest

from conftest import MAILOUTCTL, day, prose
from smtpraw import Raw, client_context

pytestmark = pytest.mark.dates

WARN, TEMPFAIL, CUTOVER = day(10), day(20), day(30)
LISTENERS = {"mailout": {"tls": "required", "clients": "127.0.0.0/8"}}
TRANSITION = {"register_from": day(1), "warn_from": WARN, "tempfail_from": TEMPFAIL,
              "cutover": CUTOVER, "end": day(300), "help_url": "https://mailout.test/"}
MSG = b"Subject: plain\r\n\r\nhello\r\n"


def midnight(date):
    return calendar.timegm(datetime.date.fromisoformat(date).timetuple())


def gateway_before(make_gateway, date):
    """A gateway whose clock reads two seconds before that date's midnight."""
    gw = make_gateway(listeners=LISTENERS)
    lines = ["[transition]"] + [f"{k} = {v}" for k, v in TRANSITION.items()]
    gw.write_config()
    with open(gw.conf, "a") as f:
        f.write("\n" + "\n".join(lines) + "\n")
    gw.env["MAILOUT_CLOCK_OFFSET"] = f"{midnight(date) - 2 - int(time.time())}s"
    return gw.start()


def plain_mail(gw):
    c = Raw(gw.port("mailout"))
    c.cmd("EHLO plain.test")
    code, lines = c.cmd("MAIL FROM:<app@example.edu>")
    c.close()
    return code, lines[0]


def test_open_then_warn(make_gateway, sink):
    gw = gateway_before(make_gateway, WARN)
    t0 = time.time()
    assert plain_mail(gw) == (250, "250 2.1.0 Sender <app@example.edu> ok")
    time.sleep(max(0, 3 - (time.time() - t0)))
    code, line = plain_mail(gw)
    assert code == 250 and "warning: unencrypted; from %s" % CUTOVER in line, line
    assert "see https://mailout.test/" in line
    # a whole message in the warn phase: the final reply and a header say it
    with smtplib.SMTP("127.0.0.1", gw.port("mailout"), timeout=10) as s:
        s.ehlo("plain.test")
        s.mail("app@example.edu")
        s.rcpt("ops@example.org")
        code, text = s.data(MSG)
        assert code == 250 and b"warning: unencrypted" in text
    m = sink.wait_messages(1)[0]
    assert b"\r\nX-Mailout-Warning: unencrypted; from " + CUTOVER.encode() in m["data"]
    assert "event=plaintext-warned" in gw.log() and "event=reload" not in gw.log()


def test_warn_then_tempfail(make_gateway):
    gw = gateway_before(make_gateway, TEMPFAIL)
    t0 = time.time()
    assert "warning" in plain_mail(gw)[1]
    time.sleep(max(0, 3 - (time.time() - t0)))
    code, line = plain_mail(gw)
    assert code == 450 and line.startswith("450 4.7.0") and CUTOVER in line, line
    assert "https://mailout.test/" in line


def test_tempfail_then_refuse_and_tls_is_untouched(make_gateway):
    gw = gateway_before(make_gateway, CUTOVER)
    t0 = time.time()
    assert plain_mail(gw)[0] == 450
    time.sleep(max(0, 3 - (time.time() - t0)))
    code, line = plain_mail(gw)
    assert code == 530 and line.startswith("530 5.7.0"), line
    with smtplib.SMTP("127.0.0.1", gw.port("mailout"), timeout=10) as s:
        s.starttls(context=client_context())
        s.ehlo("tls.test")
        assert s.mail("app@example.edu")[0] == 250
    # check and the report say where the calendar is
    out = subprocess.run([MAILOUTCTL, "-c", gw.conf, "check"], env=gw.env, capture_output=True,
                         text=True, timeout=60).stdout  # with the gateway's clock
    assert "transition: phase refuse; next: end on " + TRANSITION["end"] in out, out


def test_guide_and_registration_follow_the_calendar(make_gateway):
    from webclient import WebClient
    gw = make_gateway(listeners=LISTENERS, registry={}, web={"clients": "127.0.0.0/8"})
    with open(gw.conf, "a") as f:
        f.write("\n[transition]\n" + "\n".join(f"{k} = {v}" for k, v in TRANSITION.items())
                + "\n")
    gw.start()
    w = WebClient(gw.web_url)
    page = w.get("/")[2]
    assert f"From <b>{prose(CUTOVER)}</b>" in page
    assert f"from <b>{prose(WARN)}</b> with a warning" in page
    page = w.request("GET", "/", headers={"Accept-Language": "de"})[2]
    assert f"Ab dem <b>{prose(CUTOVER, 'de')}</b>" in page
    assert f"ab dem <b>{prose(WARN, 'de')}</b> mit einer Warnung" in page
    status, _, page = w.get("/register")  # register_from is tomorrow
    assert status == 403 and f"The registration opens on {TRANSITION['register_from']}" in page


def test_report_transition_suggests_an_action_per_registration(make_gateway, sink):
    """The re-evaluation: a copier that still sends in clear, one that now
    sends over STARTTLS, one never used."""
    import json
    gw = make_gateway(listeners={
        "mailout": {"tls": "required", "clients": "127.0.0.0/8"},
        "mailout-unsecure": {"tls": "off", "clients": "registered", "recipients": "internal"},
    }, registry={}).start()
    for addr, name in (("127.0.0.5", "plain copier"), ("127.0.0.7", "updated copier"),
                       ("127.0.0.8", "unused scanner")):
        gw.ctl("device", "add", addr, "--name", name, "--owner", "it@example.edu",
               "--sender", "scans@example.edu")
    Raw_ok = lambda: Raw(gw.port("mailout-unsecure"), source="127.0.0.5").greeting[0] == 220  # noqa
    from conftest import wait_for
    wait_for(Raw_ok, what="registrations in force")
    with smtplib.SMTP("127.0.0.1", gw.port("mailout-unsecure"), timeout=10,
                      source_address=("127.0.0.5", 0)) as s:
        s.sendmail("scans@example.edu", ["staff@example.edu"], MSG)
    with smtplib.SMTP("127.0.0.1", gw.port("mailout"), timeout=10,
                      source_address=("127.0.0.7", 0)) as s:
        s.starttls(context=client_context())
        s.sendmail("scans@example.edu", ["staff@example.edu"], MSG)

    def report():
        return {r["address"]: r for r in
                json.loads(gw.ctl("report", "transition", "--json").stdout)}
    wait_for(lambda: report()["127.0.0.7"]["tls_days"] == 1 and
             report()["127.0.0.5"]["plaintext_days"] == 1, 15, what="the counters written")
    r = report()
    assert r["127.0.0.5"]["action"] == "renew-or-replace" and r["127.0.0.5"]["best_tls"] == "none"
    assert r["127.0.0.7"]["action"] == "end-exception" and r["127.0.0.7"]["best_tls"] == "TLSv1.3"
    assert "move it to port 587" in r["127.0.0.7"]["advice"]
    assert r["127.0.0.8"]["action"] == "let-expire" and r["127.0.0.8"]["last_seen"] == ""
    assert r["127.0.0.5"]["senders"] == "scans@example.edu"
    text = gw.ctl("report", "transition").stdout
    assert "still plaintext: renew or replace" in text and "unused for 90 days" in text, text
