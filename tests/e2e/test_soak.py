"""Crash soak: several clients send while mailoutd is killed with SIGKILL at
random moments (receiving, delivering) and restarted. Every message that got
a 250 must arrive at the sink at least once. SOAK_N sets the message count
(default 300 in make check; `make soak` runs 2,000)."""
import os
import random
import re
import smtplib
import threading
import time

from conftest import wait_for

N = int(os.environ.get("SOAK_N", "300"))
CLIENTS = 4


def test_crash_soak(make_gateway, sink):
    g = make_gateway(listeners={"in": {"tls": "off", "clients": "127.0.0.0/8"}},
                     relay={"retry_interval": "1s", "retry_factor": "1", "connections": "4"})
    g.start()
    accepted, lock = set(), threading.Lock()
    sent = [0]
    done = threading.Event()
    rnd = random.Random(int(os.environ.get("SOAK_SEED", "1")))

    def client(k):
        todo = list(range(k, N, CLIENTS))
        while todo:
            try:
                with smtplib.SMTP("127.0.0.1", g.port("in"), timeout=10) as s:
                    while todo:
                        i = todo[0]
                        with lock:
                            sent[0] += 1
                        body = f"Subject: soak {i}\r\nMessage-ID: <soak-{i}@test>\r\n\r\n{'x' * 200}\r\n"
                        s.sendmail("soak@example.edu", [f"r{i}@example.edu"], body.encode())
                        with lock:
                            accepted.add(i)
                        todo.pop(0)
            except (OSError, smtplib.SMTPException):
                time.sleep(0.1)  # the gateway is down: send again

    def killer():
        kills = 0
        while not done.is_set() and kills < 50:
            time.sleep(rnd.uniform(0.1, 0.5))
            g.kill9()
            kills += 1
            g.start()
        killer.kills = kills

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    kt = threading.Thread(target=killer)
    kt.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    done.set()
    kt.join()

    def delivered():
        ids = [int(x) for m in sink.messages
               for x in re.findall(rb"Message-ID: <soak-(\d+)@test>", m["data"])]
        return ids

    wait_for(lambda: accepted <= set(delivered()), timeout=120, what="every accepted message")
    ids = delivered()
    dups = len(ids) - len(set(ids))
    lost = len(accepted - set(ids))
    print(f"\ncrash soak: sent {sent[0]} (with resends), accepted {len(accepted)} of {N}, "
          f"delivered {len(set(ids))}, duplicates {dups}, lost {lost}, "
          f"kills {getattr(killer, 'kills', 0)}")
    assert len(accepted) == N and lost == 0
    assert getattr(killer, "kills", 0) >= 2
