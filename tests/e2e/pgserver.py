"""A throw-away PostgreSQL cluster on a loopback port, for the fleet tests.

initdb in a temporary folder (as the postgres user when the tests run as
root: PostgreSQL refuses to run as root), the server on 127.0.0.1 and a
free port with its socket in that folder, trust authentication for the
role "mailout" from loopback only, one database "registry". stop() and
start() stop and start the same cluster (to play an outage); cleanup()
stops it and removes the folder. Debian's postgresql package has the
programs (scripts/test-deps.sh installs it)."""
import glob
import os
import pwd
import shutil
import subprocess
import tempfile

from conftest import free_port


def _bindir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise AssertionError("PostgreSQL is not installed (scripts/test-deps.sh installs it)")
    return os.path.dirname(found[-1])


class Postgres:
    def __init__(self):
        self.bin = _bindir()
        self.dir = tempfile.mkdtemp(prefix="mailout-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.user = None
        if os.geteuid() == 0:
            self.user = "postgres"
            pw = pwd.getpwnam(self.user)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self._run("initdb", "-D", self.data, "-U", "mailout", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                    f"unix_socket_directories = '{self.dir}'\nfsync = off\n")
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
            f.write("local all mailout trust\nhost all mailout 127.0.0.1/32 trust\n")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "mailout",
                  "registry")

    @property
    def url(self):
        return f"postgresql://mailout@127.0.0.1:{self.port}/registry"

    def new_database(self):
        """The URL of a new, empty database of this cluster."""
        self.n = getattr(self, "n", 0) + 1
        self.sql(f"CREATE DATABASE registry{self.n}")
        return f"postgresql://mailout@127.0.0.1:{self.port}/registry{self.n}"

    def _run(self, prog, *args):
        cmd = [os.path.join(self.bin, prog), *args]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=self.dir)
        assert r.returncode == 0, (cmd, r.stdout, r.stderr)
        return r

    def start(self):
        self._run("pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "log"), "-w", "start")

    def stop(self, mode="fast"):
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def sql(self, query):
        r = subprocess.run([os.path.join(self.bin, "psql"), "-At", "-h", "127.0.0.1", "-p",
                            str(self.port), "-U", "mailout", "-d", "registry", "-c", query],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    def cleanup(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
