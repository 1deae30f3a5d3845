"""Reminders and the digest (issue #17, acceptance 2): `mailoutctl notify`
puts them into the gateway's own queue, they arrive at the next hop once
each, in the registration's language, and `notify --dry-run` lists them
before and changes nothing."""
import email
import email.header
import email.policy
import smtplib
import time

import pytest

from conftest import CLOCK_OFFSET, day, prose, wait_for

pytestmark = pytest.mark.dates

LISTENERS = {
    "mailout": {"tls": "required", "clients": "127.0.0.0/8"},
    "mailout-unsecure": {"tls": "off", "clients": "registered", "recipients": "internal"},
}


def transition():
    return {"warn_from": day(-5), "cutover": day(30), "end": day(300),
            "remind": "30d 7d 1d", "admins": "it-admins@example.edu noc@example.edu",
            "help_url": "https://mailout.test/check"}


def notices(sink, to):
    """The messages at the sink for `to`, parsed."""
    return [email.message_from_bytes(m["data"], policy=email.policy.default)
            for m in sink.messages if to in m["to"]]


def subject(msg):
    return str(email.header.make_header(email.header.decode_header(msg["Subject"])))


def test_reminders_and_digest_arrive_once(make_gateway, sink):
    gw = make_gateway(listeners=LISTENERS, registry={}, transition=transition(),
                      web={"support": "IT service desk, https://help.example.edu/"}).start()
    gw.ctl("device", "add", "127.0.0.5", "--name", "Kopierer 3. OG", "--owner-name", "Anna Weiß",
           "--owner", "anna@example.edu", "--language", "de", "--expires", day(6))
    gw.ctl("device", "add", "127.0.0.7", "--name", "scanner", "--owner", "bob@example.edu",
           "--expires", day(100))
    gw.ctl("device", "add", "127.0.0.8", "--name", "old fax", "--owner",
           "carl@example.edu", "--expires", day(-2), "--force")
    register_pending(gw, "127.0.0.9", "waiting copier")
    import json
    assert json.loads(gw.ctl("device", "show", "4", "--json").stdout)["language"] == "de"
    # the German copier sends in clear to the tls=required listener (warn phase)
    with smtplib.SMTP("127.0.0.1", gw.port("mailout"), timeout=10,
                      source_address=("127.0.0.5", 0)) as s:
        s.sendmail("scans@example.edu", ["staff@example.edu"], b"Subject: scan\r\n\r\nx\r\n")
    wait_for(lambda: "127.0.0.5" in gw.ctl("report", "tls").stdout, 15, what="the counters")

    dry = gw.ctl("notify", "--dry-run").stdout
    assert "would send remind 7d registration 1 to anna@example.edu" in dry, dry
    assert "would send expired registration 3 to carl@example.edu" in dry
    assert "would send plaintext warning for 127.0.0.5 (registration 1)" in dry
    assert "would send the digest of" in dry and "it-admins@example.edu" in dry
    assert "bob@example.edu" not in dry and dry.strip().endswith("4 due"), dry
    time.sleep(1)
    assert notices(sink, "anna@example.edu") == [] and gw.spool_files("queue") == []

    out = gw.ctl("notify").stdout
    assert out.strip().endswith("4 sent"), out
    wait_for(lambda: len(notices(sink, "anna@example.edu")) == 2 and
             notices(sink, "carl@example.edu") and notices(sink, "noc@example.edu"), 20,
             what="the reminders at the sink")
    anna = sorted(notices(sink, "anna@example.edu"), key=subject)
    remind, plain = anna[0], anna[1]
    assert subject(remind) == "Die Registrierung 1 Ihres Geräts gilt nur noch bis zum " + \
        prose(day(6), "de"), subject(remind)
    body = remind.get_content()
    assert "Guten Tag Anna Weiß," in body and "(noch 7 Tage)" in body, body
    assert "Kopierer 3. OG" in body and "https://mailout.test/check" in body
    assert "IT service desk, https://help.example.edu/" in body
    assert remind["Auto-Submitted"] == "auto-generated" and remind["From"] == \
        "mailout <postmaster@example.edu>"
    assert subject(plain) == "Ihr Gerät 127.0.0.5 sendet unverschlüsselt"
    assert "1 E-Mails in 1 Verbindungen" in plain.get_content()
    carl = notices(sink, "carl@example.edu")[0]
    assert subject(carl) == "The registration 3 of your device has expired"
    assert "can no longer send mail without encryption" in carl.get_content()
    digest = [m for m in sink.messages if "noc@example.edu" in m["to"]]
    assert len(digest) == 1 and set(digest[0]["to"]) == {"it-admins@example.edu",
                                                         "noc@example.edu"}
    text = email.message_from_bytes(digest[0]["data"], policy=email.policy.default).get_content()
    assert "Requests waiting for a decision: 1" in text and "waiting copier" in text, text
    assert "Registrations that expire within 30 days: 1" in text and "Kopierer" in text
    assert "Senders without encryption, the last 7 days: 1" in text, text
    assert "127.0.0.5" in text and "registration 1, anna@example.edu" in text

    # once each: a second run sends nothing, and the log shows four deliveries
    assert gw.ctl("notify").stdout.strip().endswith("0 sent")
    assert gw.ctl("notify", "--dry-run").stdout.strip().endswith("0 due")
    time.sleep(2)
    assert len(notices(sink, "anna@example.edu")) == 2
    assert len(notices(sink, "carl@example.edu")) == 1
    assert len([m for m in sink.messages if "noc@example.edu" in m["to"]]) == 1

    sent = gw.ctl("notify", "--sent", "--since", "1d").stdout
    assert "anna@example.edu" in sent and "remind 7d registration 1" in sent, sent
    assert len(sent.splitlines()) == 4

    # six days on, the last reminder (1d) is due, once
    later = {"MAILOUT_CLOCK_OFFSET": f"{CLOCK_OFFSET + 6 * 86400}s"}
    out = gw.ctl("notify", env=later).stdout
    assert "sent remind 1d registration 1 to anna@example.edu" in out, out
    assert gw.ctl("notify", env=later).stdout.strip().endswith("0 sent")
    wait_for(lambda: [m for m in notices(sink, "anna@example.edu")
                      if "(noch 1 Tag)" in m.get_content()], 20, what="the 1d reminder")


def register_pending(gw, address, name):
    """A request through the registration form, from the device's address."""
    from webclient import WebClient
    c = WebClient(gw.web_url, source=address, headers={"Accept-Language": "de"})
    form = c.get("/register")[2]
    fields = {"name": name, "manufacturer": "Canon", "model": "iR-ADV C5235",
              "address": address, "location": "Building A", "owner_name": "Lab Manager",
              "owner_email": "lab@example.edu", "org_unit": "Physics", "reason": "no-tls",
              "csrf": WebClient.csrf(form)}
    assert c.post("/register", fields)[0] == 200


def test_a_renewal_brings_the_reminders_back(make_gateway, sink):
    gw = make_gateway(listeners=LISTENERS, registry={}, transition=transition()).start()
    gw.ctl("device", "add", "127.0.0.5", "--name", "copier", "--owner",
           "anna@example.edu", "--expires", day(2))
    assert "sent remind 7d registration 1" in gw.ctl("notify").stdout
    assert gw.ctl("notify").stdout.strip().endswith("0 sent")
    gw.ctl("device", "renew", "1", "--expires", day(5))  # a new date: told once more
    assert "sent remind 7d registration 1" in gw.ctl("notify").stdout
    assert gw.ctl("notify").stdout.strip().endswith("0 sent")
    gw.ctl("device", "renew", "1", "--expires", day(20))
    assert "sent remind 30d registration 1" in gw.ctl("notify").stdout


def test_notify_refuses_bad_config(make_gateway):
    gw = make_gateway(listeners=LISTENERS, registry={},
                      transition={**transition(), "remind": "1d 7d"})
    r = gw.ctl("check", check=False)
    assert r.returncode != 0 and "remind: give the durations largest first" in r.stderr, r
