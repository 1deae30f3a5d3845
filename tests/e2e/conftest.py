"""End-to-end harness: a real mailoutd, real clients, a real SMTP sink.

The gateway runs from $MAILOUTD (set by `make e2e`) on ports picked per
test; the sink is aiosmtpd on loopback and can be told to fail.
"""
import datetime
import os
import re
import signal
import socket
import subprocess
import tempfile
import shutil
import threading
import time

import pytest
from aiosmtpd.controller import Controller

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MAILOUTD = os.environ.get("MAILOUTD", os.path.join(ROOT, "build", "mailoutd"))
MAILOUTCTL = os.environ.get("MAILOUTCTL", os.path.join(ROOT, "build", "mailoutctl"))


def _parse_offset(s):
    """MAILOUT_CLOCK_OFFSET as the gateway reads it (util/clock.c):
    [+-]N[smhd], in seconds."""
    m = re.fullmatch(r"([+-]?)(\d+)([smhd]?)", s.strip())
    assert m, f"bad MAILOUT_CLOCK_OFFSET {s!r}"
    scale = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(3)]
    return (-1 if m.group(1) == "-" else 1) * int(m.group(2)) * scale


# The gateway and mailoutctl inherit MAILOUT_CLOCK_OFFSET from this
# environment; tests compute every date from now() so that they pass on
# any day and at any offset (make check runs the date tests twice).
CLOCK_OFFSET = _parse_offset(os.environ.get("MAILOUT_CLOCK_OFFSET", "0"))


def now():
    """The gateway's "now", in seconds since the epoch."""
    return time.time() + CLOCK_OFFSET


def day(days=0):
    """The gateway's date, shifted by days, as YYYY-MM-DD (UTC)."""
    t = datetime.datetime.fromtimestamp(now(), datetime.timezone.utc)
    return (t + datetime.timedelta(days=days)).date().isoformat()


MONTHS = {"en": ["January", "February", "March", "April", "May", "June", "July", "August",
                 "September", "October", "November", "December"],
          "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
                 "September", "Oktober", "November", "Dezember"]}


def prose(iso, lang="en"):
    """A day as the pages and the reminders write it in a sentence:
    "1 February 2027", "1. Februar 2027"."""
    y, m, d = (int(x) for x in iso.split("-"))
    return f"{d} {MONTHS['en'][m - 1]} {y}" if lang == "en" else \
        f"{d}. {MONTHS['de'][m - 1]} {y}"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "dates: depends on the gateway's date; make check runs it also at "
        "MAILOUT_CLOCK_OFFSET=548d")
    config.addinivalue_line(
        "markers", "perf: measures speed; run on the plain build only (make e2e)")


_ports_given = set()


def free_port(host="127.0.0.1"):
    """A port nobody listens on, never the same twice in a test run: the
    kernel may hand out a just-closed port again, and two listeners of one
    gateway then collide ("address is also used by listener ...")."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    while True:
        with socket.socket(fam, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port not in _ports_given:
            _ports_given.add(port)
            return port


def wait_for(predicate, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class SinkHandler:
    """Collects messages; `mode` makes it fail on demand."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        self.mode = "ok"  # ok | 451 | 451-once | 550-rcpt:<addr> | 451-rcpt:<addr>
        self.rcpt_replies = {}  # address -> reply, for several recipients at once
        self.rcpt_seen = []  # every RCPT address, in order, over all sessions
        self.data_count = 0
        self.sessions = set()  # one per connection: counts connections

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_seen.append(address)
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        if self.mode.startswith("550-rcpt:") and address == self.mode.split(":", 1)[1]:
            return "550 5.1.1 <%s>: no such user here" % address
        if self.mode.startswith("451-rcpt:") and address == self.mode.split(":", 1)[1]:
            return "451 4.2.1 <%s>: mailbox busy, try later" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_count += 1
        self.sessions.add(id(session))
        if self.mode == "451" or (self.mode == "451-once" and self.data_count == 1):
            return "451 4.3.0 try again later"
        with self.lock:
            self.messages.append(
                {
                    "from": envelope.mail_from,
                    "to": list(envelope.rcpt_tos),
                    "data": envelope.original_content or envelope.content,
                }
            )
        return "250 2.0.0 OK sink"


class Sink:
    def __init__(self, port=None, tls_context=None, host="127.0.0.1"):
        self.host = host
        self.port = port or free_port(host)
        self.handler = SinkHandler()
        self.controller = None
        self.tls_context = tls_context

    def start(self):
        kw = {"tls_context": self.tls_context} if self.tls_context else {}
        kw["enable_SMTPUTF8"] = True
        self.controller = Controller(self.handler, hostname=self.host, port=self.port, **kw)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self):
        with self.handler.lock:
            return list(self.handler.messages)

    def wait_messages(self, n, timeout=15):
        return wait_for(lambda: len(self.messages) >= n and self.messages, timeout,
                        what=f"{n} message(s) at the sink")


@pytest.fixture
def sink():
    s = Sink()
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def certs():
    d = tempfile.mkdtemp(prefix="mailout-certs-")
    os.chmod(d, 0o755)
    subprocess.run([os.path.join(ROOT, "scripts", "demo-certs.sh"), d], check=True)
    yield d
    shutil.rmtree(d, ignore_errors=True)


DEFAULT_LISTENERS = {
    "mailout": {"tls": "required"},
    "mailout-smtps": {"tls": "implicit"},
    "mailout-unsecure": {"tls": "off", "clients": "127.0.0.0/8", "recipients": "internal"},
}


_pg = []


def registry_database(folder):
    """A new gateway's registry: a SQLite file in its folder, or with
    MAILOUT_TEST_REGISTRY=postgresql a database of its own in one throw-away
    PostgreSQL cluster for the whole run (tests/e2e/pgserver.py), so that
    the same tests check both."""
    if os.environ.get("MAILOUT_TEST_REGISTRY") != "postgresql":
        return os.path.join(folder, "registry", "registry.sqlite")
    if not _pg:
        import atexit
        from pgserver import Postgres
        _pg.append(Postgres())
        atexit.register(_pg[0].cleanup)
    return _pg[0].new_database()


class Gateway:
    """One mailoutd with its own folder, config and ports."""

    def __init__(self, certs, sink_port, listeners=None, gateway=None, relay=None,
                 registry=None, routes=None, web=None, auth=None, transition=None,
                 host="127.0.0.1"):
        self.host = host  # the loopback address its listeners and web pages bind to
        self.dir = tempfile.mkdtemp(prefix="mailout-e2e-")
        os.chmod(self.dir, 0o755)  # the workers run as the mailout user
        self.certs = certs
        self.tls_files = {"certificate": f"{certs}/ecdsa.pem {certs}/rsa.pem",
                          "key": f"{certs}/ecdsa.key {certs}/rsa.key"}
        self.ports = {}
        self.listeners = listeners or DEFAULT_LISTENERS
        self.gateway = {"hostname": "mailout.test", "spool": os.path.join(self.dir, "spool"),
                        "internal_domains": "example.edu .example.edu"}
        self.gateway.update(gateway or {})
        self.relay = {"next_hop": f"127.0.0.1:{sink_port}", "tls": "opportunistic",
                      "retry_interval": "1s"}
        self.relay.update(relay or {})
        self.routes = routes or {}
        self.web = None
        if web is not None:
            self.web = {"address": f"{host}:{free_port(host)}"}
            self.web.update(web)
        self.auth = dict(auth) if auth else None
        self.transition = dict(transition) if transition else None
        self.registry = None
        if registry is not None:
            self.registry = {"database": registry_database(self.dir),
                             "registration_url": "https://mailout.test/register"}
            self.registry.update(registry)
        self.conf = os.path.join(self.dir, "mailout.conf")
        self.logpath = os.path.join(self.dir, "mailoutd.log")
        self.proc = None
        self.env = dict(os.environ)
        self.extra_args = []  # e.g. ["-d"] for debug logging
        self.write_config()

    def write_config(self):
        lines = ["[gateway]"] + [f"{k} = {v}" for k, v in self.gateway.items()]
        lines += ["", "[tls]"] + [f"{k} = {v}" for k, v in self.tls_files.items()]
        lines += ["", "[relay]"]
        lines += [f"{k} = {v}" for k, v in self.relay.items()]
        if self.registry:
            lines += ["", "[registry]"] + [f"{k} = {v}" for k, v in self.registry.items()]
        if self.routes:
            lines += ["", "[routes]"] + [f"{k} = {v}" for k, v in self.routes.items()]
        if self.web:
            lines += ["", "[web]"] + [f"{k} = {v}" for k, v in self.web.items()]
        if self.auth:
            lines += ["", "[auth]"] + [f"{k} = {v}" for k, v in self.auth.items()]
        if self.transition:
            lines += ["", "[transition]"] + [f"{k} = {v}" for k, v in self.transition.items()]
        for name, opts in self.listeners.items():
            opts = dict(opts)
            if name not in self.ports:
                self.ports[name] = free_port(self.host)
            addr = opts.pop("address", f"{self.host}:{self.ports[name]}")
            lines += ["", f"[listener {name}]", f"address = {addr}"]
            lines += [f"{k} = {v}" for k, v in opts.items()]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        self.logfile = open(self.logpath, "ab")
        self.proc = subprocess.Popen([MAILOUTD, "-c", self.conf, "-f", *self.extra_args],
                                     stdout=self.logfile,
                                     stderr=subprocess.STDOUT, env=self.env)
        for name in self.listeners:
            wait_for(lambda: self._accepting(self.ports[name]), 10, what=f"listener {name}")
        wait_for(lambda: "event=queue-started" in self.log(), 10, what="queue runner")
        if self.web:
            wait_for(lambda: "event=web-started" in self.log(), 10, what="web pages")
        return self

    @property
    def web_url(self):
        scheme = "https" if "certificate" in self.web else "http"
        return f"{scheme}://{self.web['address']}"

    def _accepting(self, port):
        if self.proc.poll() is not None:
            raise AssertionError("mailoutd exited:\n" + self.log())
        return self._port_busy(port, self.host)

    def port(self, name):
        return self.ports[name]

    def log(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout=10, count=1):
        rx = re.compile(pattern)
        return wait_for(lambda: len(rx.findall(self.log())) >= count, timeout,
                        what=f"log line /{pattern}/ x{count}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if getattr(self, "logfile", None):
            self.logfile.close()
            self.logfile = None

    def kill9(self):
        """Crash the whole gateway: the master, and with it every child."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        # children die through PR_SET_PDEATHSIG; wait until the ports are free
        for name in self.listeners:
            wait_for(lambda: not self._port_busy(self.ports[name], self.host), 10,
                     what="ports free")
        self.proc = None
        self.logfile.close()
        self.logfile = None

    @staticmethod
    def _port_busy(port, host="127.0.0.1"):
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return True
        except OSError:
            return False

    def ctl(self, *args, check=True, env=None):
        """mailoutctl on this gateway's config, with its environment (its clock)."""
        r = subprocess.run([MAILOUTCTL, "-c", self.conf, *args], capture_output=True, text=True,
                           timeout=60, env={**self.env, **(env or {})})
        if check:
            assert r.returncode == 0, (args, r.stdout, r.stderr)
        if _pg and args[:1] == ("device",) and self.proc:
            # a shared registry reaches the workers within a second, not at once
            # (doc/SCALING.md): the tests send right after a change
            time.sleep(0.3)
        return r

    def worker_pids(self):
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True,
                             text=True).stdout
        return [int(p) for p in out.split()]

    def rss_kb(self):
        """Resident memory of all mailoutd processes, in KiB."""
        total = 0
        for pid in [self.proc.pid] + self.worker_pids():
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        return total

    def spool_files(self, sub):
        d = os.path.join(self.gateway["spool"], sub)
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def make_gateway(certs, sink):
    made = []

    def make(**kw):
        g = Gateway(certs, sink.port, **kw)
        made.append(g)
        return g

    yield make
    for g in made:
        log = g.log()
        g.cleanup()
        # a sanitizer report or a call outside a child's seccomp list anywhere in
        # the daemon's output fails the test
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                       "event=sandbox-violation"):
            assert marker not in log, log


@pytest.fixture
def gateway(make_gateway):
    return make_gateway().start()


def strip_received(data: bytes) -> bytes:
    """The message minus the first Received: header (ours)."""
    assert data.startswith(b"Received: "), data[:200]
    lines = data.split(b"\r\n")
    i = 1
    while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
        i += 1
    return b"\r\n".join(lines[i:])
