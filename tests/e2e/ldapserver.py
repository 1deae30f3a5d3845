"""A throw-away OpenLDAP slapd on a loopback port, for the AUTH tests.

The directory (dc=example,dc=edu) holds a few people: jdoe with two mail
addresses, asmith with one, and a locked account (ppolicy). slapd runs in
the foreground from a generated slapd.conf, with StartTLS and ldaps:// on
the given certificate; stop() ends it by its PID. DelayProxy sits in front of it and
holds every answer back for a while, to play a slow directory.
"""
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

SCHEMAS = ["core", "cosine", "inetorgperson", "nis"]
BASE = "dc=example,dc=edu"
PEOPLE = "ou=people," + BASE

USERS = {
    "jdoe": {"password": "jane-secret-1", "mail": ["jane.doe@example.edu", "jd@dept.example.edu"]},
    "asmith": {"password": "al-secret-22", "mail": ["al.smith@example.edu"]},
    "locked": {"password": "locked-secret-1", "mail": ["locked@example.edu"], "locked": True},
    "svc": {"password": "service-pw-9", "mail": []},
}

LDIF_HEAD = f"""dn: {BASE}
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: {PEOPLE}
objectClass: organizationalUnit
ou: people

dn: ou=groups,{BASE}
objectClass: organizationalUnit
ou: groups

dn: cn=mailadmins,ou=groups,{BASE}
objectClass: groupOfNames
cn: mailadmins
member: uid=asmith,{PEOPLE}

dn: ou=policies,{BASE}
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,{BASE}
objectClass: pwdPolicy
objectClass: device
cn: default
pwdAttribute: userPassword
pwdLockout: TRUE
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ldif():
    out = [LDIF_HEAD]
    for uid, u in USERS.items():
        lines = [f"dn: uid={uid},{PEOPLE}", "objectClass: inetOrgPerson", f"uid: {uid}",
                 f"cn: {uid}", f"sn: {uid}", f"userPassword: {u['password']}"]
        lines += [f"mail: {m}" for m in u["mail"]]
        if u.get("locked"):
            lines.append("pwdAccountLockedTime: 000001010000Z")
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


class Slapd:
    def __init__(self, cert, key):
        self.dir = tempfile.mkdtemp(prefix="mailout-slapd-")
        self.port = _free_port()
        self.uri = f"ldap://127.0.0.1:{self.port}"
        self.ldaps_port = _free_port()
        self.ldaps_uri = f"ldaps://127.0.0.1:{self.ldaps_port}"
        self.cert, self.key = cert, key
        self.proc = None
        os.makedirs(os.path.join(self.dir, "db"))
        conf = [f"include /etc/ldap/schema/{s}.schema" for s in SCHEMAS]
        conf += [f"pidfile {self.dir}/slapd.pid", "modulepath /usr/lib/ldap",
                 "moduleload back_mdb", "moduleload ppolicy",
                 f"TLSCertificateFile {cert}", f"TLSCertificateKeyFile {key}",
                 "database mdb", f'suffix "{BASE}"', f'rootdn "cn=admin,{BASE}"',
                 "rootpw admin-secret", f"directory {self.dir}/db", "overlay ppolicy",
                 f'ppolicy_default "cn=default,ou=policies,{BASE}"',
                 "access to attrs=userPassword by anonymous auth by * none",
                 "access to * by * read"]
        self.conf = os.path.join(self.dir, "slapd.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")
        ldif = os.path.join(self.dir, "data.ldif")
        with open(ldif, "w") as f:
            f.write(_ldif())
        subprocess.run(["slapadd", "-f", self.conf, "-l", ldif], check=True,
                       capture_output=True)

    def start(self):
        self.log = open(os.path.join(self.dir, "slapd.log"), "ab")
        self.proc = subprocess.Popen(["slapd", "-f", self.conf, "-h",
                                      f"{self.uri}/ {self.ldaps_uri}/", "-d", "0"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        raise AssertionError("slapd did not start: " + open(self.log.name).read())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()
            self.log = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class DelayProxy:
    """Forwards to a server; every answer is held back `delay` seconds."""

    def __init__(self, target_port, delay):
        self.target_port, self.delay = target_port, delay
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.port = self.sock.getsockname()[1]
        self.uri = f"ldap://127.0.0.1:{self.port}"
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            s = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pump, args=(c, s, 0), daemon=True).start()
            threading.Thread(target=self._pump, args=(s, c, self.delay), daemon=True).start()

    @staticmethod
    def _pump(src, dst, delay):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if delay:
                    time.sleep(delay)
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        self.stopping = True
        self.sock.close()
