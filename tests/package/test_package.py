"""The Debian package (issue #16), on this machine as an admin would use it:
build it, lint it, install it with dpkg, check the units and man pages, put
a certificate and a test config in place, start mailoutd the way the unit
does (with a notification socket), send a message over STARTTLS with AUTH,
reinstall it (the registry and the spool stay), then purge it: nothing runs
and nothing of it is left.

Run as root by `make package-check` (part of `make check`). The package's
files go to their real places: do not run it on a machine that runs mailout.
"""
import glob
import os
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from conftest import Sink, free_port, wait_for  # noqa: E402

ETC = "/etc/mailout"
UNITS = ["/lib/systemd/system/mailout.service", "/lib/systemd/system/mailout-expire.service",
         "/lib/systemd/system/mailout-expire.timer"]


def run(*args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, timeout=300, **kw)
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r


def unit_exec(key):
    for line in open(UNITS[0]):
        if line.startswith(key + "="):
            return line.split("=", 1)[1].split()
    raise AssertionError(key)


@pytest.fixture(scope="module")
def deb():
    if os.path.exists("/usr/sbin/mailoutd") and not os.path.exists(
            "/var/lib/dpkg/info/mailout.list"):
        pytest.skip("a mailoutd not from this package is installed")
    out = tempfile.mkdtemp(prefix="mailout-deb-")
    path = run(os.path.join(ROOT, "scripts", "package.sh"), out).stdout.strip().splitlines()[-1]
    yield path
    subprocess.run(["dpkg", "--purge", "mailout"], capture_output=True)
    shutil.rmtree(out, ignore_errors=True)


def test_lintian_has_no_errors(deb):
    r = subprocess.run(["lintian", "--allow-root", "--tag-display-limit", "0", deb],
                       capture_output=True, text=True, timeout=300)
    errors = [l for l in r.stdout.splitlines() if l.startswith("E:")]
    assert errors == [], r.stdout


def test_install_run_send_purge(deb, tmp_path):
    run("dpkg", "-i", deb)
    # what the package put in place
    for path in ["/usr/sbin/mailoutd", "/usr/sbin/mailoutctl", f"{ETC}/mailout.conf",
                 "/usr/share/man/man5/mailout.conf.5.gz", *UNITS]:
        assert os.path.exists(path), path
    assert run("getent", "passwd", "mailout").stdout.startswith("mailout:")
    for d in ("/var/spool/mailout", "/var/lib/mailout"):
        st = os.stat(d)
        assert st.st_uid == int(run("id", "-u", "mailout").stdout) and st.st_mode & 0o777 == 0o750
    for page in ("mailoutd.8", "mailoutctl.8", "mailout.conf.5"):
        path = glob.glob(f"/usr/share/man/man*/{page}.gz")[0]
        text = run("zcat", path).stdout
        r = subprocess.run(["groff", "-ww", "-z", "-man"], input=text, capture_output=True,
                           text=True)
        assert r.returncode == 0 and r.stderr == "", (page, r.stderr)
    r = subprocess.run(["systemd-analyze", "verify", *UNITS], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    # nothing started: the admin configures first
    assert subprocess.run(["pgrep", "-x", "mailoutd"], capture_output=True).returncode != 0

    # the admin's part: a certificate, accounts, the config (here on free ports)
    os.makedirs(f"{ETC}/certs", exist_ok=True)
    run(os.path.join(ROOT, "scripts", "demo-certs.sh"), f"{ETC}/certs")
    # the installed example passes check once the certificates are there (ports that
    # something on this machine already holds are the only thing it may name)
    r = subprocess.run(["/usr/sbin/mailoutctl", "-c", f"{ETC}/mailout.conf", "check"],
                       capture_output=True, text=True)
    problems = [l for l in r.stderr.splitlines() if l and "cannot listen" not in l
                and "would stop mailoutd" not in l and not l.startswith("warning")]
    assert r.returncode == 0 or problems == [], r.stdout + r.stderr
    sink = Sink()
    sink.start()
    ports = {"mailout": free_port(), "mailout-smtps": free_port(), "mailout-unsecure": free_port(),
             "web": free_port()}
    conf = open(f"{ETC}/mailout.conf").read()
    conf = conf.replace("0.0.0.0:587 [::]:587", f"127.0.0.1:{ports['mailout']}")
    conf = conf.replace("0.0.0.0:465 [::]:465", f"127.0.0.1:{ports['mailout-smtps']}")
    conf = conf.replace("0.0.0.0:25 [::]:25", f"127.0.0.1:{ports['mailout-unsecure']}")
    conf = conf.replace("127.0.0.1:8025", f"127.0.0.1:{ports['web']}")
    conf = conf.replace("smtp.example.edu:25", f"127.0.0.1:{sink.port}")
    conf = re.sub(r"\[auth\].*?\n\n", "[auth]\nbackend = file\npasswd = /etc/mailout/smtp-passwd\n"
                  "senders = map\nsender_map = /etc/mailout/senders\n\n", conf, flags=re.S)
    with open(f"{ETC}/mailout.conf", "w") as f:
        f.write(conf)
    line = run("/usr/sbin/mailoutctl", "auth", "passwd", "copier", input="copier-pass-1\n").stdout
    with open(f"{ETC}/smtp-passwd", "w") as f:
        f.write(line)
    with open(f"{ETC}/senders", "w") as f:
        f.write("copier: @example.edu\n")
    run(*unit_exec("ExecStartPre"))

    # start it the way the unit does, with a notification socket
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(20)
    env = dict(os.environ, NOTIFY_SOCKET=str(tmp_path / "notify"))
    proc = subprocess.Popen(unit_exec("ExecStart"), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        msg = ""
        while "READY=1" not in msg:
            msg += notify.recv(4096).decode()
        ctx = ssl.create_default_context(cafile=f"{ETC}/certs/ecdsa.pem")
        ctx.check_hostname = False
        with smtplib.SMTP("127.0.0.1", ports["mailout"], timeout=10) as s:
            s.starttls(context=ctx)
            s.login("copier", "copier-pass-1")
            s.sendmail("scans@example.edu", ["someone@example.org"],
                       b"Subject: from the package\r\n\r\nhello\r\n")
        m = sink.wait_messages(1)[0]
        assert m["to"] == ["someone@example.org"] and b"with ESMTPSA" in m["data"]
        # the registry works, and survives a reinstall (an upgrade's path)
        run("/usr/sbin/mailoutctl", "-c", f"{ETC}/mailout.conf", "device", "add", "10.1.2.3",
            "--name", "copier", "--owner", "it@example.edu")
    finally:
        proc.terminate()
        out = proc.communicate(timeout=60)[0].decode("utf-8", "replace")
        sink.stop()
    assert "event=stopped" in out, out[-3000:]
    assert "sandbox-violation" not in out, out
    run("dpkg", "-i", deb)
    assert os.path.exists(f"{ETC}/smtp-passwd")  # the admin's files stay
    listing = run("/usr/sbin/mailoutctl", "-c", f"{ETC}/mailout.conf", "device", "list").stdout
    assert "10.1.2.3" in listing, listing

    # purge: nothing runs, nothing of it stays
    run("dpkg", "--purge", "mailout")
    assert subprocess.run(["pgrep", "-x", "mailoutd"], capture_output=True).returncode != 0
    for path in ["/usr/sbin/mailoutd", "/var/spool/mailout", "/var/lib/mailout", *UNITS]:
        assert not os.path.exists(path), path
    shutil.rmtree(ETC, ignore_errors=True)  # what the test (the admin) added
