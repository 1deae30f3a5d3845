"""Acceptance 9 of the core issue: config mistakes name their line."""
import os
import subprocess

from conftest import free_port, MAILOUTCTL, MAILOUTD, ROOT

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
clients = 10.0.0.0/8

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
    assert f"{path}:24: unknown key 'frobnicate' in [listener mailout-unsecure]" in err
    assert "tls = off with auth = required" in err and f"{path}:18:" in err


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


def readme_config():
    text = open(os.path.join(ROOT, "README.md")).read()
    return text.split("## A configuration", 1)[1].split("```ini\n", 1)[1].split("```", 1)[0]


def test_security_4_a_listener_that_relays_anywhere_says_who_may_use_it(tmp_path, certs):
    """Every TLS listener was an open relay by default (clients = any,
    recipients = any), and README's example bound 0.0.0.0:587."""
    open_relay = GOOD.replace("clients = 10.0.0.0/8\n", "", 1)
    rc, _, err, path = check(tmp_path, open_relay, certs)
    assert rc == 1 and f"{path}:13: listener 'mailout' on 0.0.0.0:587 relays to any recipient " \
        "for anyone who reaches it (an open relay)" in err, err
    # written out, everyone is allowed, with a warning
    everyone = GOOD.replace("clients = 10.0.0.0/8\n", "clients = 0.0.0.0/0 ::/0\n", 1)
    rc, _, err, _ = check(tmp_path, everyone, certs)
    assert rc == 0 and "warning: listener 'mailout' relays to any recipient for every address" in err
    # on loopback only this host can use it: fine
    local = open_relay.replace("0.0.0.0:587 [::]:587", "127.0.0.1:587 [::1]:587")
    assert check(tmp_path, local, certs)[0] == 0


def test_security_4_readme_and_demo_configs_pass_check_without_a_warning(tmp_path, certs):
    text = readme_config()
    for old, new in [("/etc/mailout/ecdsa", f"{certs}/ecdsa"), ("/etc/mailout/rsa", f"{certs}/rsa"),
                     ("/etc/mailout/web", f"{certs}/ecdsa"), ("/var/spool/mailout",
                                                              str(tmp_path / "spool")),
                     ("/var/lib/mailout/", str(tmp_path) + "/"),
                     (f"{certs}/ecdsa-admins", str(tmp_path / "admins")),
                     ("10.0.0.25:587", f"127.0.0.1:{free_port()}")]:
        text = text.replace(old, new)
    (tmp_path / "admins").write_text(subprocess.run(
        [MAILOUTCTL, "web", "passwd", "alice"], input="long enough\n", capture_output=True,
        text=True, check=True).stdout)
    rc, out, err, _ = check(tmp_path, text)
    assert rc == 0 and "warning" not in err, err
    # the demo, as make run prepares it
    (tmp_path / "etc").mkdir()
    demo = tmp_path / "etc" / "demo.conf"
    demo.write_text(open(os.path.join(ROOT, "etc", "demo.conf")).read())
    subprocess.run([os.path.join(ROOT, "scripts", "demo-certs.sh"), str(tmp_path / "var")],
                   check=True)
    subprocess.run([os.path.join(ROOT, "scripts", "demo-admin.sh"), str(tmp_path / "var")],
                   check=True)
    r = subprocess.run([MAILOUTCTL, "-c", str(demo), "check"], capture_output=True, text=True)
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
