"""The master: privileges, IPv6 listeners, reload on SIGHUP, clean stop."""
import os
import pwd
import re
import signal
import socket
import subprocess
import time

import pytest

from conftest import MAILOUTCTL, MAILOUTD, free_port, wait_for
from smtpraw import Raw


def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def uid_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])


def test_children_drop_privileges(gateway):
    kids = wait_for(lambda: len(children(gateway.proc.pid)) >= 2 and children(gateway.proc.pid),
                    what="two children")
    if os.geteuid() == 0:
        mailout = pwd.getpwnam("mailout").pw_uid  # the default user, made by make test-deps
        assert uid_of(gateway.proc.pid) == 0
        for k in kids:
            assert uid_of(k) == mailout, k
        assert os.stat(os.path.join(gateway.gateway["spool"], "queue")).st_uid == mailout


def test_ipv6_listener(make_gateway, sink):
    port = free_port()
    g = make_gateway(listeners={"dual": {"tls": "off", "address": f"127.0.0.1:{port} [::1]:{port}"}})
    g.ports["dual"] = port
    g.write_config()
    g.start()
    s = socket.create_connection(("::1", port), timeout=5)
    assert s.recv(100).startswith(b"220")
    s.sendall(b"EHLO v6.test\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.edu>\r\nDATA\r\n")
    time.sleep(0.3)
    s.sendall(b"Subject: v6\r\n\r\nover IPv6\r\n.\r\nQUIT\r\n")
    m = sink.wait_messages(1)[0]
    assert b"over IPv6" in m["data"] and b"[::1]" in m["data"]
    g.wait_log(r"event=connect .*listener=dual client=::1 ")
    s.close()


def rcpts_accepted(g, n):
    c = Raw(g.port("mailout-unsecure"))
    c.cmd("EHLO r.test")
    c.cmd("MAIL FROM:<a@example.edu>")
    codes = [c.cmd(f"RCPT TO:<r{i}@example.edu>")[0] for i in range(n)]
    c.cmd("QUIT")
    return codes


def test_sighup_reloads_and_keeps_old_config_when_broken(make_gateway):
    g = make_gateway(gateway={"max_recipients": "2"}).start()
    assert rcpts_accepted(g, 3) == [250, 250, 452]
    g.gateway["max_recipients"] = "5"
    g.write_config()
    os.kill(g.proc.pid, signal.SIGHUP)
    g.wait_log(r"event=reloaded")
    wait_for(lambda: rcpts_accepted(g, 3) == [250, 250, 250], what="new limit in force")
    with open(g.conf, "a") as f:
        f.write("\n[listener broken]\nfrobnicate = yes\n")
    os.kill(g.proc.pid, signal.SIGHUP)
    g.wait_log(r"event=reload-failed")
    assert "unknown key 'frobnicate'" in g.log()
    assert rcpts_accepted(g, 3) == [250, 250, 250]


def test_sigterm_lets_data_finish_and_refuses_new(make_gateway, sink):
    g = make_gateway().start()
    c = Raw(g.port("mailout-unsecure"))
    c.cmd("EHLO t.test")
    c.cmd("MAIL FROM:<a@example.edu>")
    c.cmd("RCPT TO:<b@example.edu>")
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: last one\r\n\r\nstarted before the stop\r\n")
    g.proc.send_signal(signal.SIGTERM)
    g.wait_log(r"event=worker-stopping")
    c.send(b".\r\n")
    code, lines = c.reply()
    assert code == 250, lines
    qid = lines[0].split()[-1]
    code, lines = c.reply()  # and then a polite goodbye
    assert code == 421 and "shutting down" in lines[0], lines
    g.proc.wait(timeout=30)
    # accepted means kept: delivered before the stop, or still in the queue
    delivered = any(qid.encode() in m["data"] for m in sink.messages)
    assert delivered or qid in g.spool_files("queue")
    try:
        socket.create_connection(("127.0.0.1", g.port("mailout-unsecure")), timeout=1).close()
        raise AssertionError("still accepting after SIGTERM")
    except OSError:
        pass


def as_service_user(*cmd):
    """Run cmd as the service user, as an attacker who has its rights would."""
    subprocess.run(["runuser", "-u", "mailout", "--", *cmd], check=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="the master must run as root")
def test_root_master_never_follows_the_service_users_links(make_gateway, tmp_path):
    """Security issue 1: the service user swaps spool folders for symlinks to
    a root-owned folder and to a folder of root-owned files, then SIGHUP.
    Nothing of root's may change owner or vanish; the reload is refused with
    a sentence, and so is a fresh start."""
    g = make_gateway().start()
    spool = g.gateway["spool"]
    secret = tmp_path / "root-only"
    secret.mkdir(mode=0o700)
    victims = tmp_path / "root-files"
    victims.mkdir()
    for name in ("a", "b"):
        (victims / name).write_text("root's\n")
    os.chmod(tmp_path, 0o755)
    as_service_user("rm", "-rf", f"{spool}/hold", f"{spool}/incoming")
    as_service_user("ln", "-s", str(secret), f"{spool}/hold")
    as_service_user("ln", "-s", str(victims), f"{spool}/incoming")
    os.kill(g.proc.pid, signal.SIGHUP)
    g.wait_log("event=reload-failed")
    assert re.search(r"reload-failed error=\".*/(incoming|hold) is a symbolic link", g.log()), g.log()
    st = os.stat(secret)
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (0, 0, 0o700)
    assert sorted(os.listdir(victims)) == ["a", "b"]
    assert all(os.stat(victims / n).st_uid == 0 for n in ("a", "b"))
    g.stop()
    r = subprocess.run([MAILOUTD, "-c", g.conf, "-f"], capture_output=True, text=True, timeout=20)
    assert r.returncode != 0 and "is a symbolic link" in r.stderr, r.stderr
    assert "spool-swept" not in r.stderr and sorted(os.listdir(victims)) == ["a", "b"]
    # a folder of another user is refused too, not taken over
    os.unlink(f"{spool}/hold")
    os.unlink(f"{spool}/incoming")
    os.mkdir(f"{spool}/hold")
    os.mkdir(f"{spool}/incoming", 0o750)
    os.chown(f"{spool}/hold", 4242, 4242)
    r = subprocess.run([MAILOUTD, "-c", g.conf, "-f"], capture_output=True, text=True, timeout=20)
    assert r.returncode != 0 and "belongs to uid 4242" in r.stderr, r.stderr
    assert os.stat(f"{spool}/hold").st_uid == 4242


def test_second_daemon_on_the_same_spool_is_refused(make_gateway):
    """Correctness issue: a second mailoutd with other ports and the same
    spool ran its own queue runner on it."""
    g = make_gateway().start()
    other = make_gateway(gateway={"spool": g.gateway["spool"]})
    r = subprocess.run([MAILOUTD, "-c", other.conf, "-f"], capture_output=True, text=True,
                       timeout=20)
    assert r.returncode != 0, r.stderr
    assert f"spool {g.gateway['spool']} is in use by pid {g.proc.pid}" in r.stderr, r.stderr
    assert "event=queue-started" not in r.stderr
    # the first one is unharmed, and after it stops the spool is free
    g.stop()
    other.start()


@pytest.mark.skipif(os.path.exists("/dev/log"), reason="a syslog daemon is there to log to")
def test_daemon_without_syslog_logs_to_stderr_and_writes_a_pid_file(make_gateway, tmp_path):
    """Correctness issue, part 4: without -f and with no syslog socket (a
    container) every log line was lost. Now it says so and logs to stderr;
    [gateway] pid_file holds the daemon's pid, gone after a stop."""
    pid_file = tmp_path / "mailoutd.pid"
    g = make_gateway(gateway={"pid_file": str(pid_file)})
    g.write_config()
    err = open(tmp_path / "stderr", "w+")
    r = subprocess.run([MAILOUTD, "-c", g.conf], stderr=err, timeout=20)  # no -f
    assert r.returncode == 0
    pid = int(wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(),
                       what="the pid file"))
    try:
        wait_for(lambda: "event=queue-started" in open(tmp_path / "stderr").read(),
                 what="log lines on stderr")
        text = open(tmp_path / "stderr").read()
        assert "event=log-fallback reason=\"no syslog socket at /dev/log\"" in text, text
        assert re.search(rf"mailoutd\[{pid}\] level=info event=started ", text), text
        # the daemon, not the process that started it, holds the spool
        other = make_gateway(gateway={"spool": g.gateway["spool"]})
        r = subprocess.run([MAILOUTD, "-c", other.conf, "-f"], capture_output=True, text=True,
                           timeout=20)
        assert f"is in use by pid {pid}" in r.stderr, r.stderr
    finally:
        os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not pid_file.exists(), what="the pid file removed")


def process_memory(pid):
    """Every readable, writable mapping of pid (heap, stacks, anonymous)."""
    chunks = []
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            if not fields[1].startswith("rw") or hi - lo > 1 << 30:
                continue
            try:
                mem.seek(lo)
                chunks.append(mem.read(hi - lo))
            except OSError:
                pass
    return b"".join(chunks)


def listening_inodes():
    """inode -> port of every listening TCP socket."""
    out = {}
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            for line in list(f)[1:]:
                fields = line.split()
                if fields[3] == "0A":
                    out[fields[9]] = int(fields[1].rsplit(":", 1)[1], 16)
    return out


def listening_ports_of(pid):
    inodes = listening_inodes()
    ports = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            ports.add(inodes[target[8:-1]])
    return ports


def status_field(pid, name):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split()[1]


@pytest.mark.skipif(os.geteuid() != 0, reason="reads other processes' memory")
def test_security_11_each_child_holds_only_its_secrets(make_gateway, certs, tmp_path):
    """The web HTTPS key and the admins file's hashes were in the heap of the
    SMTP worker and the queue runner; the web process held the SMTP sockets;
    NoNewPrivs was 0, no seccomp."""
    run = lambda *a: subprocess.run(a, check=True, capture_output=True, cwd=tmp_path)  # noqa
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", "web.key", "-out", "web.pem", "-days", "3", "-subj", "/CN=web")
    admins = tmp_path / "admins"
    line = subprocess.run([MAILOUTCTL, "web", "passwd", "alice"], input="a long password\n",
                          capture_output=True, text=True, check=True).stdout
    admins.write_text(line)
    os.chmod(tmp_path, 0o700)  # root's: the master reads them before the children exist
    g = make_gateway(registry={}, web={"certificate": str(tmp_path / "web.pem"),
                                       "key": str(tmp_path / "web.key"),
                                       "admins": str(admins)}).start()
    g.wait_log("event=web-started")
    roles = dict((role, int(pid)) for pid, role in
                 re.findall(r"child-started pid=(\d+) role=(\w+)", g.log()))
    web_key = (tmp_path / "web.key").read_text().splitlines()[1].encode()  # base64 of the key
    smtp_key = open(f"{certs}/ecdsa.key").read().splitlines()[1].encode()
    admin_hash = line.strip().split(":", 1)[1].encode()
    memory = {role: process_memory(pid) for role, pid in roles.items()}
    assert web_key in memory["web"] and admin_hash in memory["web"]  # the search works
    for role in ("smtp", "queue"):
        assert web_key not in memory[role], role
        assert admin_hash not in memory[role], role
    for role in ("web", "queue"):
        assert smtp_key not in memory[role], role
    smtp_ports = {g.port(n) for n in g.listeners}
    web_port = int(g.web["address"].rsplit(":", 1)[1])
    assert listening_ports_of(roles["smtp"]) == smtp_ports
    assert listening_ports_of(roles["web"]) == {web_port}
    assert listening_ports_of(roles["queue"]) == set()
    for role, pid in roles.items():
        assert status_field(pid, "NoNewPrivs") == "1", role
        assert status_field(pid, "Seccomp") == "2", role
    # and they still do their jobs
    assert subprocess.run(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}",
                           g.web_url + "/"], capture_output=True, text=True).stdout == "200"
    c = Raw(g.port("mailout-unsecure"))
    c.cmd("EHLO t")
    assert c.cmd("MAIL FROM:<a@example.edu>")[0] == 250
    c.cmd("QUIT")
