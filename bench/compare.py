"""mailoutd against a private Postfix instance, same policy, same sink.

Both servers: STARTTLS required on one port, implicit TLS on another, the
same ECDSA certificate, a durable queue, relay to one smtp-sink on loopback.
The matrix alternates the two (A B A B ...) and prints medians and the ratio
mailout/Postfix of throughput, server CPU per 1,000 messages (every process
of the server, reaped children included), p99 latency and peak PSS.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
WORK = "/var/tmp/mailout-bench"
CLK = os.sysconf("SC_CLK_TCK")

MATRIX = [
    ("4KiB STARTTLS c=1", ["-m", "starttls", "-c", "1", "-n", "150"]),
    ("4KiB STARTTLS c=8", ["-m", "starttls", "-c", "8", "-n", "600"]),
    ("4KiB STARTTLS c=64", ["-m", "starttls", "-c", "64", "-n", "1500"]),
    ("1MiB STARTTLS c=8", ["-m", "starttls", "-c", "8", "-n", "80", "-s", "1048576"]),
    ("4KiB STARTTLS c=8 20/conn", ["-m", "starttls", "-c", "8", "-k", "20", "-n", "1200"]),
    ("4KiB implicit TLS c=8", ["-m", "smtps", "-c", "8", "-n", "600"]),
    ("4KiB implicit TLS c=8 resumed", ["-m", "smtps", "-c", "8", "-n", "600", "-R"]),
    ("4KiB STARTTLS c=8 RSA certificate", ["-m", "starttls", "-c", "8", "-n", "600", "-A", "rsa"]),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


def children_map():
    kids = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                kids.setdefault(int(fields[1]), []).append(int(p))
            except OSError:
                pass
    return kids


def tree(pid):
    kids, out, todo = children_map(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


def cpu_seconds(master):
    """utime+stime of the live tree, plus what the master reaped (cutime, cstime)."""
    total = 0
    for p in tree(master):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
            if p == master:
                total += int(fields[13]) + int(fields[14])
        except OSError:
            pass
    return total / CLK


def pss_kb(master):
    total = 0
    for p in tree(master):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class Server:
    def __init__(self, name, ports, queue_dirs):
        self.name, self.ports, self.queue_dirs = name, ports, queue_dirs
        self.master = None

    def queue_empty(self):
        for d in self.queue_dirs:
            for _, _, files in os.walk(d):
                if files:
                    return False
        return True


def start_mailout(certs, sink):
    ports = {"starttls": free_port(), "smtps": free_port()}
    spool = f"{WORK}/mo-spool"
    conf = f"{WORK}/mailout.conf"
    with open(conf, "w") as f:
        f.write(f"""[gateway]
hostname = mailout.bench.test
spool = {spool}
workers = {os.environ.get("MAILOUT_WORKERS", "1")}
max_client_connections = 1000
[tls]
certificate = {certs}/ecdsa.pem {certs}/rsa.pem
key = {certs}/ecdsa.key {certs}/rsa.key
[relay]
next_hop = 127.0.0.1:{sink}
tls = none
connections = 8
[listener submission]
address = 127.0.0.1:{ports['starttls']}
tls = required
[listener smtps]
address = 127.0.0.1:{ports['smtps']}
tls = implicit
""")
    log = open(f"{WORK}/mailoutd.log", "w")
    proc = subprocess.Popen([f"{ROOT}/build/mailoutd", "-c", conf, "-f"], stdout=log,
                            stderr=subprocess.STDOUT)
    s = Server("mailout", ports, [f"{spool}/queue", f"{spool}/incoming"])
    s.master, s.proc = proc.pid, proc
    return s


def start_postfix(certs, sink):
    ports = {"starttls": free_port(), "smtps": free_port()}
    d = f"{WORK}/postfix"
    sh(f"{ROOT}/bench/postfix-instance.sh", d, str(ports["starttls"]), str(ports["smtps"]),
       str(sink), f"{certs}/ecdsa.pem", f"{certs}/ecdsa.key", f"{certs}/rsa.pem", f"{certs}/rsa.key")
    sh("postfix", "-c", f"{d}/etc", "start")
    time.sleep(1)
    with open(f"{d}/queue/pid/master.pid") as f:
        master = int(f.read().split()[0])
    q = f"{d}/queue"
    s = Server("postfix", ports, [f"{q}/incoming", f"{q}/active", f"{q}/deferred",
                                  f"{q}/maildrop", f"{q}/hold"])
    s.master = master
    return s


def wait_port(port):
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"port {port} does not answer")


def run_once(server, args, load):
    mode = args[args.index("-m") + 1]
    port = server.ports["smtps" if mode == "smtps" else "starttls"]
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], pss_kb(server.master))
            time.sleep(0.2)

    t = threading.Thread(target=sample)
    cpu0 = cpu_seconds(server.master)
    t.start()
    r = subprocess.run([load, "-p", str(port), "-t", "120", *args], capture_output=True,
                       text=True)
    deadline = time.time() + 120
    while not server.queue_empty() and time.time() < deadline:
        time.sleep(0.1)
    cpu1 = cpu_seconds(server.master)
    stop.set()
    t.join()
    kv = dict(x.split("=", 1) for x in r.stdout.split())
    ok = int(kv.get("ok", 0))
    return {"msgs_s": float(kv["msgs_per_s"]), "cpu_per_1000": (cpu1 - cpu0) / max(ok, 1) * 1000,
            "p99": float(kv["txn_p99_ms"]), "eod_p99": float(kv["eod_p99_ms"]),
            "pss_mb": peak[0] / 1024, "fail": int(kv.get("fail", 0)), "ok": ok}


def physical_limits():
    out = {}
    r = subprocess.run(["openssl", "speed", "-seconds", "2", "ecdsap256", "ecdhp256"],
                       capture_output=True, text=True)
    m = re.search(r"256 bits ecdsa \(nistp256\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)\s+([\d.]+)", r.stdout)
    if m:
        out["ecdsa_sign_per_s"] = float(m.group(1))
    m = re.search(r"256 bits ecdh \(nistp256\)\s+[\d.]+s\s+([\d.]+)", r.stdout)
    if m:
        out["ecdh_per_s"] = float(m.group(1))
    d = f"{WORK}/fsync"
    os.makedirs(d, exist_ok=True)
    n, stop = 0, time.time() + 2
    while time.time() < stop:
        p = f"{d}/f{n}"
        fd = os.open(p, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, b"x" * 4096)
        os.fsync(fd)
        os.close(fd)
        dfd = os.open(d, os.O_RDONLY)
        os.fsync(dfd)
        os.close(dfd)
        os.unlink(p)
        n += 1
    out["file_and_dir_fsyncs_per_s"] = n / 2
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rows", default="", help="comma-separated row numbers (1-based)")
    a = ap.parse_args()
    subprocess.run(["make", "-s", "-C", ROOT, "all"], check=True)
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    os.chmod(WORK, 0o755)
    load = f"{WORK}/smtpload"
    sh("cc", "-O2", "-o", load, f"{ROOT}/bench/smtpload.c", "-lssl", "-lcrypto", "-lpthread")
    certs = f"{WORK}/certs"
    sh(f"{ROOT}/scripts/demo-certs.sh", certs)
    os.chmod(certs, 0o755)
    sink_port = free_port()
    sink = subprocess.Popen(["smtp-sink", "-u", "nobody", f"127.0.0.1:{sink_port}", "1024"])
    servers = []
    try:
        servers = [start_mailout(certs, sink_port), start_postfix(certs, sink_port)]
        for s in servers:
            wait_port(s.ports["starttls"])
            wait_port(s.ports["smtps"])
        limits = physical_limits()
        rows = MATRIX
        if a.rows:
            rows = [MATRIX[int(i) - 1] for i in a.rows.split(",")]
        results = []
        for name, args in rows:
            res = {"mailout": [], "postfix": []}
            for _ in range(a.rounds):
                for s in servers:  # A B A B ...
                    res[s.name].append(run_once(s, args, load))
            results.append((name, args, res))
            report_row(name, res)
        report(results, limits, a.rounds)
    finally:
        for s in servers:
            if s.name == "postfix":
                subprocess.run(["postfix", "-c", f"{WORK}/postfix/etc", "stop"],
                               capture_output=True)
            elif s.proc.poll() is None:
                s.proc.send_signal(signal.SIGTERM)
                s.proc.wait(timeout=60)
        sink.send_signal(signal.SIGTERM)
        sink.wait()


def med(runs, key):
    return statistics.median(r[key] for r in runs)


def report_row(name, res):
    m, p = res["mailout"], res["postfix"]
    print(f"{name}: mailout {med(m, 'msgs_s'):.0f}/s {med(m, 'cpu_per_1000'):.2f} cpu-s/1000 "
          f"p99 {med(m, 'p99'):.1f} ms | postfix {med(p, 'msgs_s'):.0f}/s "
          f"{med(p, 'cpu_per_1000'):.2f} cpu-s/1000 p99 {med(p, 'p99'):.1f} ms "
          f"(failures {sum(r['fail'] for r in m + p)})", file=sys.stderr, flush=True)


def report(results, limits, rounds):
    print(f"\nmailout vs Postfix, medians of {rounds} alternating rounds "
          f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores)\n")
    print("| row | msgs/s mailout | msgs/s Postfix | ratio | CPU s/1000 mailout | "
          "CPU s/1000 Postfix | ratio | p99 ms mailout | p99 ms Postfix | "
          "peak PSS MiB mailout | peak PSS MiB Postfix | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, args, res in results:
        m, p = res["mailout"], res["postfix"]
        print(f"| {name} | {med(m, 'msgs_s'):.0f} | {med(p, 'msgs_s'):.0f} | "
              f"{med(m, 'msgs_s') / med(p, 'msgs_s'):.2f} | {med(m, 'cpu_per_1000'):.2f} | "
              f"{med(p, 'cpu_per_1000'):.2f} | "
              f"{med(m, 'cpu_per_1000') / med(p, 'cpu_per_1000'):.2f} | {med(m, 'p99'):.1f} | "
              f"{med(p, 'p99'):.1f} | {med(m, 'pss_mb'):.1f} | {med(p, 'pss_mb'):.1f} | "
              f"{med(m, 'pss_mb') / med(p, 'pss_mb'):.2f} |")
    print("\nphysical limits on this machine:")
    for k, v in limits.items():
        print(f"  {k} = {v:.0f}")
    sign = limits.get("ecdsa_sign_per_s")
    ecdh = limits.get("ecdh_per_s")
    if sign and ecdh:
        hs = 1 / (1 / sign + 1 / ecdh)
        print(f"  full ECDSA+ECDHE handshakes per second per core (server side) ~ {hs:.0f}")
        for name, args, res in results:
            if "-R" not in args and "-k" not in args and "-A" not in args:
                rate = med(res["mailout"], "msgs_s")
                print(f"  {name}: mailout reaches {rate / (hs * os.cpu_count()):.0%} of "
                      f"{os.cpu_count()} cores of handshakes, "
                      f"{rate / limits['file_and_dir_fsyncs_per_s']:.0%} of serial commits")


if __name__ == "__main__":
    main()
