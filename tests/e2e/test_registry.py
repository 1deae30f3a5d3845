"""Acceptance of the device-registry issue: registered devices on the
unencrypted interface, live registry changes, expiry, CIDR, legacy TLS."""
import csv
import datetime
import io
import json
import subprocess
import threading
import time

import pytest

from conftest import day, free_port, now, wait_for
from smtpraw import Raw

pytestmark = pytest.mark.dates

UNSECURE = {"tls": "off", "clients": "registered", "recipients": "internal"}


@pytest.fixture
def reg_gateway(make_gateway):
    def make(**kw):
        listeners = {"mailout-unsecure": dict(UNSECURE),
                     "mailout": {"tls": "required"}}
        return make_gateway(listeners=listeners, registry=kw.pop("registry", {}), **kw)
    return make


def greet(g, source, listener="mailout-unsecure", host="127.0.0.1"):
    c = Raw(g.port(listener), host=host, source=source)
    return c, c.greeting


def send(g, source, rcpts, listener="mailout-unsecure"):
    """Codes of MAIL, each RCPT, and the final reply (or None)."""
    c, (code, lines) = greet(g, source, listener)
    if code != 220:
        return code, lines
    c.cmd("EHLO copier.test")
    codes = [c.cmd("MAIL FROM:<scanner@example.edu>")[0]]
    codes += [c.cmd(f"RCPT TO:<{r}>")[0] for r in rcpts]
    if 250 in codes[1:]:
        c.cmd("DATA")
        c.send(b"Subject: scan from %s\r\n\r\npage\r\n.\r\n" % source.encode())
        codes.append(c.reply()[0])
    c.cmd("QUIT")
    return codes


def test_registered_device_internal_only(reg_gateway, sink):
    g = reg_gateway().start()
    g.ctl("device", "add", "127.0.0.5", "--name", "3rd floor copier", "--owner",
          "alice@example.edu")
    codes = send(g, "127.0.0.5", ["bob@example.edu", "friend@gmail.com"])
    assert codes == [250, 250, 550, 250], codes
    m = sink.wait_messages(1)[0]
    assert m["to"] == ["bob@example.edu"]
    c, (code, lines) = greet(g, "127.0.0.6")
    assert code == 554 and lines[0].startswith("554 5.7.1"), lines
    assert "not registered" in lines[0] and "https://mailout.test/register" in lines[0]
    g.wait_log(r"event=refuse-client .*client=127.0.0.6")


def test_changes_apply_to_next_connection(reg_gateway):
    g = reg_gateway().start()
    assert greet(g, "127.0.0.6")[1][0] == 554
    g.ctl("device", "add", "127.0.0.6", "--name", "scanner", "--owner", "bob@example.edu")
    t0 = time.time()
    wait_for(lambda: greet(g, "127.0.0.6")[1][0] == 220, timeout=1.0, what="device admitted")
    did = json.loads(g.ctl("device", "list", "--json").stdout)[0]["id"]
    g.ctl("device", "revoke", str(did), "--why", "replaced by a new scanner")
    wait_for(lambda: greet(g, "127.0.0.6")[1][0] == 554, timeout=1.0, what="device refused")
    code, lines = greet(g, "127.0.0.6")[1]
    assert "was revoked: replaced by a new scanner" in lines[0], lines
    assert time.time() - t0 < 5
    assert "event=reload" not in g.log()


def test_expiry(reg_gateway):
    g = reg_gateway().start()
    today = day(0)
    soon = datetime.datetime.fromtimestamp(now() + 4, datetime.timezone.utc)
    g.ctl("device", "add", "127.0.0.7", "--name", "old", "--owner", "a@example.edu",
          "--expires", "2019-12-31", "--force")
    g.ctl("device", "add", "127.0.0.8", "--name", "today", "--owner", "a@example.edu",
          "--expires", today)
    g.ctl("device", "add", "127.0.0.9", "--name", "soon", "--owner", "a@example.edu",
          "--expires", soon.strftime("%Y-%m-%dT%H:%M:%SZ"))
    code, lines = greet(g, "127.0.0.7")[1]
    assert code == 554 and "expired on 2019-12-31" in lines[0], lines
    assert greet(g, "127.0.0.8")[1][0] == 220
    assert greet(g, "127.0.0.9")[1][0] == 220
    wait_for(lambda: greet(g, "127.0.0.9")[1][0] == 554, timeout=8, what="expiry in force")
    assert now() < soon.timestamp() + 2
    r = g.ctl("device", "expire")
    assert "2 registration(s) marked expired" in r.stdout, r.stdout
    r = g.ctl("device", "expire")
    assert "0 registration(s)" in r.stdout  # idempotent
    listed = json.loads(g.ctl("device", "list", "--status", "expired", "--json").stdout)
    assert sorted(d["address"] for d in listed) == ["127.0.0.7", "127.0.0.9"]


def test_cidr_and_ipv6(make_gateway):
    port = free_port()
    g = make_gateway(listeners={"u": dict(UNSECURE, address=f"127.0.0.1:{port} [::1]:{port}")},
                     registry={})
    g.ports["u"] = port
    g.write_config()
    g.start()
    g.ctl("device", "add", "127.0.1.0/24", "--name", "lab", "--owner", "lab@example.edu")
    g.ctl("device", "add", "::1", "--name", "v6 host", "--owner", "lab@example.edu")
    assert greet(g, "127.0.1.7", "u")[1][0] == 220
    assert greet(g, "127.0.2.7", "u")[1][0] == 554
    assert greet(g, None, "u", host="::1")[1][0] == 220


def test_relay_tricks_refused_on_unsecure(reg_gateway, sink):
    g = reg_gateway().start()
    g.ctl("device", "add", "127.0.0.5", "--name", "copier", "--owner", "a@example.edu")
    tricks = ["user%ext.com@example.edu", "@example.edu:user@ext.com",
              '"user@ext.com"@example.edu', "user@example.edu.evil.com"]
    codes = send(g, "127.0.0.5", tricks)
    assert codes == [250, 550, 550, 550, 550], codes
    time.sleep(0.5)
    assert sink.messages == []


def test_concurrent_clients_and_registry_writes(reg_gateway, sink):
    g = reg_gateway().start()
    g.ctl("device", "add", "127.0.3.0/24", "--name", "fleet", "--owner", "a@example.edu")
    failures, sent = [], []

    def client(i):
        for _ in range(3):
            codes = send(g, f"127.0.3.{i + 1}", [f"u{i}@example.edu"])
            (sent if codes == [250, 250, 250] else failures).append((i, codes))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    # 200 changes: 100 adds and 100 revokes, while the clients send
    ids = []
    for i in range(100):
        r = g.ctl("device", "add", f"10.9.{i}.0/24", "--name", f"n{i}", "--owner",
                  "o@example.edu")
        ids.append(int(r.stdout.split()[2].rstrip(":")))
    for did in ids:
        g.ctl("device", "revoke", str(did), "--why", "churn")
    for t in threads:
        t.join()
    assert failures == [], failures[:5]
    assert len(sent) == 60
    devices = json.loads(g.ctl("device", "list", "--json").stdout)
    assert sum(1 for d in devices if d["status"] == "revoked") == 100
    assert "too many" not in g.log() and "registry-error" not in g.log()
    sink.wait_messages(60, timeout=30)


def test_list_json_csv_round_trip_and_history(reg_gateway):
    g = reg_gateway().start()
    fields = {"--name": 'Copier "B", 3rd floor', "--owner": "alice@example.edu",
              "--owner-name": "Alice Ng", "--manufacturer": "Ricoh", "--model": "MP C3003",
              "--location": "B3.12", "--org-unit": "Physics", "--reason": "no TLS firmware",
              "--replacement": "2027 Q1", "--expires": day(400)}
    args = ["device", "add", "127.0.0.5", "--legacy-tls"]
    for k, v in fields.items():
        args += [k, v]
    g.ctl(*args)
    j = json.loads(g.ctl("device", "list", "--json").stdout)[0]
    c = list(csv.DictReader(io.StringIO(g.ctl("device", "list", "--csv").stdout)))[0]
    for flag, key in [("--name", "name"), ("--owner", "owner_email"),
                      ("--owner-name", "owner_name"), ("--manufacturer", "manufacturer"),
                      ("--model", "model"), ("--location", "location"),
                      ("--org-unit", "org_unit"), ("--reason", "reason"),
                      ("--replacement", "replacement"), ("--expires", "expires")]:
        assert j[key] == fields[flag], key
        assert c[key] == fields[flag], key
    assert j["legacy_tls"] is True and c["legacy_tls"] == "yes"
    assert j["status"] == c["status"] == "approved" and str(j["id"]) == c["id"]
    did = str(j["id"])
    g.ctl("device", "revoke", did, "--why", "audit", "--by", "carol")
    g.ctl("device", "approve", did, "--expires", day(500), "--by", "dave")
    g.ctl("device", "renew", did, "--expires", day(600), "--by", "erin")
    hist = g.ctl("device", "history", did).stdout.splitlines()
    assert [h.split()[2] for h in hist] == ["add", "revoked", "approved", "approved"], hist
    assert "carol" in hist[1] and "why=audit" in hist[1] and f"expires={day(600)}" in hist[3]
    g.ctl("device", "remove", did)
    assert g.ctl("device", "show", did, check=False).returncode == 1
    assert "remove" in g.ctl("device", "history", did).stdout


def test_ctl_errors(reg_gateway):
    g = reg_gateway()
    g.write_config()
    cases = [
        (["device", "add", "10.1.2.3/8", "--name", "x", "--owner", "a@example.edu"], "CIDR"),
        (["device", "add", "nonsense", "--name", "x", "--owner", "a@example.edu"], "not an IP"),
        (["device", "add", "10.1.2.3", "--name", "x", "--owner", "a@example.edu", "--expires",
          "31.12.2019"], "not a date"),
        (["device", "add", "10.1.2.3", "--name", "x"], "--owner"),
        (["device", "approve", "42"], "no device with id 42"),
        (["device", "reject", "1"], "--why"),
    ]
    for args, want in cases:
        r = g.ctl(*args, check=False)
        assert r.returncode != 0 and want in r.stderr, (args, r.stderr)
    g.ctl("device", "add", "10.1.2.0/24", "--name", "x", "--owner", "a@example.edu")
    r = g.ctl("device", "add", "10.1.2.3", "--name", "y", "--owner", "a@example.edu",
              check=False)
    assert r.returncode == 1 and "overlaps" in r.stderr
    r = g.ctl("device", "add", "10.1.2.0/24", "--name", "y", "--owner", "a@example.edu",
              check=False)
    assert r.returncode == 1 and "already registered" in r.stderr


def test_usage_counters(reg_gateway, sink):
    g = reg_gateway().start()
    g.ctl("device", "add", "127.0.0.5", "--name", "copier", "--owner", "a@example.edu")
    for _ in range(2):
        assert send(g, "127.0.0.5", ["bob@example.edu"])[-1] == 250
    d = wait_for(lambda: (lambda d: d["messages"] == 2 and d)(
        json.loads(g.ctl("device", "show", "127.0.0.5", "--json").stdout)), timeout=6,
        what="usage flushed")
    assert d["sessions"] == 2 and d["last_tls"] == "none"
    assert d["last_listener"] == "mailout-unsecure" and d["last_seen"]


def s_client(g, source, *args, stdin=b"QUIT\n"):
    return subprocess.run(["openssl", "s_client", "-connect",
                           f"127.0.0.1:{g.port('mailout')}", "-bind", f"{source}:0",
                           "-starttls", "smtp", "-crlf", "-quiet", *args],
                          input=stdin, capture_output=True, timeout=30)


def test_legacy_tls_per_device(reg_gateway, sink):
    g = reg_gateway().start()
    g.ctl("device", "add", "127.0.0.5", "--name", "old copier", "--owner", "a@example.edu",
          "--legacy-tls")
    script = (b"EHLO copier.test\nMAIL FROM:<scan@example.edu>\nRCPT TO:<ext@gmail.com>\n"
              b"RCPT TO:<bob@example.edu>\nDATA\nSubject: legacy\n\nold tls\n.\nQUIT\n")
    r = s_client(g, "127.0.0.5", "-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0", stdin=script)
    out = r.stdout.decode(errors="replace")
    assert "550 5.7.1 <ext@gmail.com>: this device is registered for legacy TLS: internal " \
           "addresses only" in out, out
    assert "250 2.0.0 Ok: queued" in out, out
    m = sink.wait_messages(1)[0]
    assert m["to"] == ["bob@example.edu"] and b"TLSv1/AES128-SHA" in m["data"]
    g.wait_log(r"event=tls .*client=127.0.0.5 tls=TLSv1/AES128-SHA")
    r = s_client(g, "127.0.0.6", "-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0")
    assert r.returncode != 0 and b"250 " not in r.stdout.split(b"STARTTLS")[-1]
    d = wait_for(lambda: (lambda d: d["sessions"] >= 1 and d)(
        json.loads(g.ctl("device", "show", "127.0.0.5", "--json").stdout)), timeout=6,
        what="usage flushed")
    assert d["last_tls"] == "TLSv1/AES128-SHA"


def test_tls_report_shows_who_sends_unencrypted(reg_gateway, sink):
    g = reg_gateway().start()
    g.ctl("device", "add", "127.0.0.5", "--name", 'copier "B"', "--owner", "a@example.edu")
    assert send(g, "127.0.0.5", ["bob@example.edu"])[-1] == 250   # plain, registered
    assert send(g, "127.0.0.5", ["bob@example.edu"])[-1] == 250
    assert greet(g, "127.0.0.7")[1][0] == 554                       # plain, refused
    c = Raw(g.port("mailout"), source="127.0.0.6")                  # TLS
    c.cmd("EHLO t")
    c.starttls()
    c.cmd("EHLO t")
    c.cmd("QUIT")

    def rows():
        return json.loads(g.ctl("report", "tls", "--since", "1d", "--json").stdout)

    wait_for(lambda: any(r["client"] == "127.0.0.6" for r in rows()), timeout=8,
             what="stats flushed")
    by = {(r["client"], r["tls"]): r for r in rows()}
    copier = by[("127.0.0.5", "none")]
    assert copier["sessions"] == 2 and copier["messages"] == 2 and copier["device"] == 1
    assert copier["listener"] == "mailout-unsecure"
    assert by[("127.0.0.7", "none")]["refused"] == 1
    tls_row = [r for (cl, t), r in by.items() if cl == "127.0.0.6"][0]
    assert tls_row["tls"].startswith("TLSv1.3/")
    # unencrypted senders come first
    assert rows()[0]["tls"] == "none"
    text = g.ctl("report", "tls").stdout
    assert "client(s) sent without encryption" in text and 'copier "B"' in text
    csv_rows = list(csv.DictReader(io.StringIO(g.ctl("report", "tls", "--csv").stdout)))
    assert any(r["device"] == '#1 copier "B"' for r in csv_rows)


def test_recent_sessions_of_a_client(reg_gateway, sink):
    """What issue #4's /check page will show, through mailoutctl for now."""
    g = reg_gateway().start()
    c = Raw(g.port("mailout"), source="127.0.0.9")       # plaintext on a TLS-only listener
    c.cmd("EHLO copier.test")
    assert c.cmd("MAIL FROM:<scan@example.edu>")[0] == 530
    c.cmd("QUIT")
    c = Raw(g.port("mailout"), source="127.0.0.9")       # then with STARTTLS
    c.cmd("EHLO copier.test")
    c.starttls()
    c.cmd("EHLO copier.test")
    c.cmd("MAIL FROM:<scan@example.edu>")
    c.cmd("RCPT TO:<bob@example.edu>")
    c.cmd("DATA")
    c.send(b"Subject: scan\r\n\r\npage\r\n.\r\n")
    assert c.reply()[0] == 250
    c.cmd("QUIT")
    assert greet(g, "127.0.0.9")[1][0] == 554            # the unregistered plain interface

    def rows():
        return json.loads(g.ctl("report", "sessions", "127.0.0.9", "--json").stdout)

    wait_for(lambda: len(rows()) >= 3, timeout=8, what="sessions recorded")
    newest, tls_ok, plain = rows()[:3]
    assert newest["listener"] == "mailout-unsecure" and newest["tls"] == "none"
    assert newest["result"].startswith("refused at connect: Device 127.0.0.9 is not registered")
    assert tls_ok["tls"].startswith("TLSv1.3/") and tls_ok["result"] == "accepted 1 message"
    assert plain["tls"] == "none" and "530 5.7.0 Must issue a STARTTLS" in plain["result"]
    text = g.ctl("report", "sessions", "127.0.0.9").stdout
    assert "accepted 1 message" in text


def test_csv_neutralises_formulas(reg_gateway):
    """A device name that a spreadsheet would run as a formula is exported as text."""
    g = reg_gateway().start()
    g.ctl("device", "add", "127.0.0.5", "--name", "=HYPERLINK(\"http://x\")",
          "--owner", "alice@example.edu")
    out = g.ctl("device", "list", "--csv").stdout
    assert '"\'=HYPERLINK(""http://x"")"' in out
    assert json.loads(g.ctl("device", "list", "--json").stdout)[0]["name"] == \
        '=HYPERLINK("http://x")'  # JSON and the registry keep it as given


def test_device_sender_list_enforced(reg_gateway, sink):
    """A registration's sender list (issue #15): the device sends only as
    those addresses and domains on the unencrypted interface."""
    g = reg_gateway().start()
    r = g.ctl("device", "add", "127.0.0.5", "--name", "copier", "--owner", "alice@example.edu",
              "--sender", "not an address", check=False)
    assert r.returncode != 0 and "addresses or @domains" in r.stderr, r.stderr
    g.ctl("device", "add", "127.0.0.5", "--name", "copier", "--owner", "alice@example.edu",
          "--sender", "scanner@example.edu @scan.example.edu")
    c, (code, _) = greet(g, "127.0.0.5")
    assert code == 220
    c.cmd("EHLO copier.test")
    code, lines = c.cmd("MAIL FROM:<president@example.edu>")
    assert code == 553 and "5.7.1" in lines[0] and "scanner@example.edu" in lines[0], lines
    assert c.cmd("MAIL FROM:<Scanner@Example.edu>")[0] == 250
    c.cmd("RSET")
    assert c.cmd("MAIL FROM:<floor3@scan.example.edu>")[0] == 250
    c.cmd("RSET")
    assert c.cmd("MAIL FROM:<>")[0] == 250
    # a device without a list sends as anyone (as before)
    g.ctl("device", "add", "127.0.0.6", "--name", "scanner", "--owner", "bob@example.edu")
    wait_for(lambda: greet(g, "127.0.0.6")[1][0] == 220, timeout=2, what="device admitted")
    assert send(g, "127.0.0.6", ["bob@example.edu"]) == [250, 250, 250]
    g.wait_log(r"event=refuse-sender .*client=127.0.0.5 .*from=<president@example.edu>")
