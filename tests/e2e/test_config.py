"""Acceptance 9 of the core issue: config mistakes name their line."""
import subprocess

from conftest import MAILOUTCTL, MAILOUTD

GOOD = """[gateway]
hostname = mx.example.edu
spool = /tmp/mailout-check-spool
internal_domains = example.edu .example.edu

[tls]
certificate = CERTS/ecdsa.pem
key = CERTS/ecdsa.key

[relay]
next_hop = smtp.example.edu:25

[listener mailout]
address = 0.0.0.0:587 [::]:587
tls = required

[listener mailout-unsecure]
address = 0.0.0.0:25
tls = off
clients = 10.0.0.0/8 192.168.0.0/16
recipients = internal
"""


def check(tmp_path, text, certs="/nonexistent"):
    p = tmp_path / "mailout.conf"
    p.write_text(text.replace("CERTS", certs))
    r = subprocess.run([MAILOUTCTL, "-c", str(p), "check"], capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr, str(p)


def test_good_config_prints_policy_table(tmp_path, certs):
    rc, out, err, _ = check(tmp_path, GOOD, certs)
    assert rc == 0, err
    assert "mailout-unsecure" in out and "internal" in out and "10.0.0.0/8 192.168.0.0/16" in out
    assert "[::]:587" in out


def test_mistakes_name_file_line_and_problem(tmp_path):
    bad = GOOD.replace("tls = required", "tls = requird").replace(
        "recipients = internal", "recipients = internal\nauth = required\nfrobnicate = 1")
    rc, out, err, path = check(tmp_path, bad)
    assert rc == 1
    assert f"{path}:15: tls = 'requird': must be one of off | optional | required | implicit" in err
    assert f"{path}:23: unknown key 'frobnicate' in [listener mailout-unsecure]" in err
    assert "tls = off with auth = required" in err and f"{path}:17:" in err


def test_more_mistakes(tmp_path):
    bad = GOOD + "\n[listener mailout]\naddress = 1.2.3.4\n\n[bogus]\n"
    bad = bad.replace("max_x", "")
    bad = bad.replace("clients = 10.0.0.0/8", "clients = 10.0.0.1/8")
    rc, _, err, path = check(tmp_path, bad)
    assert rc == 1
    assert "listener 'mailout' is already defined on line 13" in err
    assert "unknown section [bogus]" in err
    assert "'10.0.0.1/8' is not any, registered, or an address" in err


def test_daemon_refuses_to_start_on_bad_config(tmp_path):
    p = tmp_path / "bad.conf"
    p.write_text("[gateway]\nmax_recipients = many\n")
    r = subprocess.run([MAILOUTD, "-c", str(p), "-f"], capture_output=True, text=True, timeout=10)
    assert r.returncode != 0
    assert f"{p}:2: max_recipients = 'many'" in r.stderr
