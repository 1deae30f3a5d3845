"""What a new admin trips over (correctness issue, part 4): help, versions
and error sentences of both programs, `check` finding what stops a start,
expiry shown against the clock, change commands by address, legacy TLS on
approve and renew, ISO times, every refusal counted."""
import csv
import io
import json
import os
import subprocess

import pytest

from conftest import MAILOUTCTL, MAILOUTD, day, wait_for
from smtpraw import Raw

pytestmark = pytest.mark.dates
UNSECURE = {"tls": "off", "clients": "registered", "recipients": "internal"}


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60, **kw)


@pytest.fixture
def reg(make_gateway):
    return make_gateway(listeners={"mailout": {"tls": "required"}, "mailout-unsecure": UNSECURE},
                        registry={})


def test_help_version_and_sentences_naming_the_bad_argument(reg):
    for prog in (MAILOUTD, MAILOUTCTL):
        r = run(prog, "--version")
        assert r.returncode == 0 and r.stdout.startswith(os.path.basename(prog) + " 0."), r
        r = run(prog, "--help")
        assert r.returncode == 0 and r.stdout.startswith("usage:"), r
    # sub-command usage without a readable config
    for cmd in ("device", "queue", "report"):
        r = run(MAILOUTCTL, "-c", "/nonexistent.conf", cmd)
        assert r.returncode == 2 and f"usage: mailoutctl {cmd}" in r.stderr, r
        r = run(MAILOUTCTL, "-c", "/nonexistent.conf", cmd, "--help")
        assert r.returncode == 0 and f"usage: mailoutctl {cmd}" in r.stdout, r
    assert "unknown command 'frob'" in run(MAILOUTCTL, "-c", "/nonexistent.conf", "frob").stderr
    reg.write_config()
    cases = [
        (["report", "tls", "--since", "yesterday"], "not 'yesterday'"),
        (["report", "sessions", "10.1.2.300"], "'10.1.2.300' is not an IP address"),
        (["report", "frob"], "unknown report 'frob'"),
        (["report", "tls", "--frob"], "unknown option '--frob'"),
        (["queue", "frob", "X"], "unknown queue command 'frob'"),
        (["queue", "list", "--frob"], "unknown option '--frob'"),
        (["device", "approve"], "takes one registration"),
        (["device", "frob", "1"], "unknown device command 'frob'"),
        (["device", "revoke", "10.9.9.9", "--why", "x"], "no registration for 10.9.9.9"),
        (["device", "show", "1", "2"], "takes one ID or ADDRESS"),
        (["check", "extra"], "takes no arguments, not 'extra'"),
    ]
    for args, want in cases:
        r = reg.ctl(*args, check=False)
        assert r.returncode != 0 and want in r.stderr, (args, r.stderr)
    # a date works for --since too
    assert reg.ctl("report", "tls", "--since", day(-10)).returncode == 0


def test_check_finds_what_stops_a_start(make_gateway, certs, tmp_path):
    g = make_gateway(registry={})
    g.write_config()
    assert g.ctl("check").returncode == 0
    bad_cases = []
    # a key that does not match the certificate
    bad_cases.append(("mismatch", {"tls": {"certificate": f"{certs}/ecdsa.pem",
                                           "key": f"{certs}/rsa.key"}}, "does not match"))
    unreadable = tmp_path / "unreadable.key"
    unreadable.write_text("not a key\n")
    bad_cases.append(("bad key", {"tls": {"certificate": f"{certs}/ecdsa.pem",
                                          "key": str(unreadable)}}, "key "))
    bad_cases.append(("registry folder", {"registry": {"database": "/nonexistent/a/r.sqlite"}},
                      "does not exist"))
    bad_cases.append(("spool", {"gateway": {"spool": "/nonexistent/a/spool"}}, "does not exist"))
    bad_cases.append(("user", {"gateway": {"user": "no-such-user-here"}}, "does not exist"))
    bad_cases.append(("address", {"listeners": {"x": {"tls": "off", "clients": "10.0.0.0/8",
                                                      "address": "192.0.2.77:2525"}}},
                      "cannot listen on 192.0.2.77:2525"))
    for name, change, want in bad_cases:
        b = make_gateway(registry={})
        for section, values in change.items():
            if section == "tls":
                b.tls_files = values
            elif section == "listeners":
                b.listeners = values
            else:
                getattr(b, section).update(values)
        b.write_config()
        r = b.ctl("check", check=False)
        assert r.returncode == 1 and want in r.stderr and "would stop mailoutd" in r.stderr, \
            (name, r.stderr)
        # and mailoutd indeed refuses to start with it
        r = run(MAILOUTD, "-c", b.conf, "-f")
        assert r.returncode != 0, (name, r.stderr)


def test_expiry_shown_against_the_clock_and_past_dates_refused(reg):
    g = reg.start()
    r = g.ctl("device", "add", "127.0.0.5", "--name", "old", "--owner", "a@example.edu",
              "--expires", day(-1), check=False)
    assert r.returncode == 1 and f"the expiry {day(-1)} has passed" in r.stderr, r.stderr
    g.ctl("device", "add", "127.0.0.5", "--name", "old", "--owner", "a@example.edu",
          "--expires", day(-1), "--force")
    g.ctl("device", "add", "127.0.0.6", "--name", "new", "--owner", "a@example.edu",
          "--expires", day(30))
    # shown as expired everywhere, before anyone ran `device expire`
    [j] = [d for d in json.loads(g.ctl("device", "list", "--json").stdout) if d["id"] == 1]
    assert j["status"] == "expired"
    [c] = [d for d in csv.DictReader(io.StringIO(g.ctl("device", "list", "--csv").stdout))
           if d["id"] == "1"]
    assert c["status"] == "expired"
    assert "expired" in g.ctl("device", "show", "1").stdout
    assert " expired " in g.ctl("device", "list").stdout
    listed = json.loads(g.ctl("device", "list", "--status", "expired", "--json").stdout)
    assert [d["id"] for d in listed] == [1]
    # approve and renew with a date that has passed: refused unless --force
    for verb in ("renew", "approve"):
        r = g.ctl("device", verb, "2", "--expires", day(-3), check=False)
        assert r.returncode == 1 and "has passed" in r.stderr, r.stderr
    g.ctl("device", "renew", "2", "--expires", day(60))
    assert json.loads(g.ctl("device", "show", "2", "--json").stdout)["expires"] == day(60)


def test_change_commands_take_an_address(reg):
    g = reg.start()
    g.ctl("device", "add", "127.0.0.5", "--name", "copier", "--owner", "a@example.edu")
    g.ctl("device", "add", "10.9.0.0/24", "--name", "lab", "--owner", "a@example.edu")
    g.ctl("device", "revoke", "127.0.0.5", "--why", "stolen")
    assert json.loads(g.ctl("device", "show", "127.0.0.5", "--json").stdout)["status"] == \
        "revoked"
    g.ctl("device", "approve", "127.0.0.5", "--expires", day(10))
    assert "revoked" in g.ctl("device", "history", "127.0.0.5").stdout
    # a prefix by its own name; an address inside it is not the prefix
    g.ctl("device", "reject", "10.9.0.0/24", "--why", "too wide")
    r = g.ctl("device", "remove", "10.9.0.5", check=False)
    assert r.returncode == 1 and "no registration for 10.9.0.5 itself" in r.stderr
    g.ctl("device", "remove", "10.9.0.0/24")
    assert [d["address"] for d in json.loads(g.ctl("device", "list", "--json").stdout)] == \
        ["127.0.0.5"]


def test_legacy_tls_granted_and_taken_on_renew(reg):
    g = reg.start()
    g.ctl("device", "add", "127.0.0.5", "--name", "copier", "--owner", "a@example.edu")
    g.ctl("device", "renew", "1", "--expires", day(90), "--legacy-tls")
    d = json.loads(g.ctl("device", "show", "1", "--json").stdout)
    assert d["legacy_tls"] is True and d["expires"] == day(90)
    g.ctl("device", "renew", "127.0.0.5", "--expires", day(91), "--no-legacy-tls")
    assert json.loads(g.ctl("device", "show", "1", "--json").stdout)["legacy_tls"] is False
    hist = g.ctl("device", "history", "1").stdout
    assert "legacy_tls=yes" in hist and "legacy_tls=no" in hist


def test_refusal_with_530_counts_in_the_report(reg):
    g = reg.start()
    c = Raw(g.port("mailout"), source="127.0.0.8")
    c.cmd("EHLO t")
    assert c.cmd("MAIL FROM:<a@example.edu>")[0] == 530
    c.cmd("QUIT")

    def row():
        rows = json.loads(g.ctl("report", "tls", "--json").stdout)
        return [r for r in rows if r["client"] == "127.0.0.8"]
    [r] = wait_for(row, timeout=8, what="stats flushed")
    assert r["sessions"] == 1 and r["refused"] == 1 and r["tls"] == "none"


def test_queue_show_prints_iso_times(make_gateway, sink):
    sink.handler.mode = "451"
    g = make_gateway(relay={"retry_interval": "1h"}).start()
    c = Raw(g.port("mailout-unsecure"))
    c.cmd("EHLO t")
    c.cmd("MAIL FROM:<a@example.edu>")
    c.cmd("RCPT TO:<b@example.edu>")
    c.cmd("DATA")
    c.send(b"Subject: x\r\n\r\nx\r\n.\r\n")
    qid = c.reply()[1][0].split()[-1]
    g.wait_log(r"event=deferred id=%s" % qid)
    out = g.ctl("queue", "show", qid).stdout
    arrival = [line.split()[1] for line in out.splitlines() if line.startswith("arrival ")][0]
    assert arrival.startswith(day(0)) and arrival.endswith("Z") and "T" in arrival, out
    assert "next attempt " + day(0)[:4] in out, out
