"""Hold N idle implicit-TLS sessions on a running mailoutd, then check that
each still answers a NOOP within a second, and report memory per session.

  /usr/bin/python3 bench/idle_sessions.py PORT [N] [MASTER_PID]

Connections come from 127.0.40.1.. (50 per address, mailoutd's default
per-client limit). Bounded: N connections, one NOOP each."""
import os
import resource
import socket
import ssl
import sys
import time


def pss_kb(master):
    pids, todo = [], [master]
    kids = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    kids.setdefault(int(f.read().rsplit(")", 1)[1].split()[1]), []).append(int(p))
            except OSError:
                pass
    while todo:
        p = todo.pop()
        pids.append(p)
        todo += kids.get(p, [])
    total = 0
    for p in pids:
        with open(f"/proc/{p}/smaps_rollup") as f:
            total += sum(int(l.split()[1]) for l in f if l.startswith("Pss:"))
    return total


def main():
    port, n = int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    master = int(sys.argv[3]) if len(sys.argv) > 3 else None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    before = pss_kb(master) if master else 0
    conns, t0 = [], time.time()
    for i in range(n):
        src = f"127.0.{40 + i // 12700}.{(i // 50) % 254 + 1}"
        s = socket.create_connection(("127.0.0.1", port), source_address=(src, 0), timeout=10)
        s = ctx.wrap_socket(s)
        assert s.recv(200).startswith(b"220")
        conns.append(s)
    opened = time.time() - t0
    after = pss_kb(master) if master else 0
    worst = 0.0
    for s in conns:
        t = time.time()
        s.sendall(b"NOOP\r\n")
        assert s.recv(200).startswith(b"250")
        worst = max(worst, time.time() - t)
    for s in conns:
        s.close()
    per = (after - before) / n if master else 0
    print(f"idle_sessions={n} open_secs={opened:.1f} worst_noop_ms={worst * 1000:.1f} "
          f"pss_before_kb={before} pss_after_kb={after} kb_per_session={per:.1f}")


if __name__ == "__main__":
    main()
