"""mailoutd under systemd (issue #16): the notification protocol read from a
socket the test passes as NOTIFY_SOCKET, as systemd would; the units
checked with systemd-analyze."""
import os
import re
import signal
import socket
import subprocess

import pytest

from conftest import ROOT


def notify_socket(tmp_path, abstract=False):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if abstract:
        name = f"@mailout-test-{os.getpid()}-{id(s)}"
        s.bind("\0" + name[1:])
    else:
        name = str(tmp_path / "notify")
        s.bind(name)
    s.settimeout(15)
    return s, name


def messages_until(s, key):
    got = []
    while True:
        m = s.recv(4096).decode()
        got.append(m)
        if any(line.startswith(key) for line in m.split("\n")):
            return got


@pytest.mark.parametrize("abstract", [False, True])
def test_ready_reloading_stopping(make_gateway, tmp_path, abstract):
    s, name = notify_socket(tmp_path, abstract)
    gw = make_gateway()
    gw.env["NOTIFY_SOCKET"] = name
    gw.start()
    first = "".join(messages_until(s, "READY=1"))
    assert "READY=1" in first and "STATUS=running: 3 listeners, 1 worker, queue runner" in first
    # by then every listener accepts
    for name_ in gw.listeners:
        socket.create_connection(("127.0.0.1", gw.port(name_)), timeout=2).close()
    # the status follows the load: an open session shows
    c = socket.create_connection(("127.0.0.1", gw.port("mailout")), timeout=5)
    c.recv(100)
    text = "\n".join(messages_until(s, "STATUS=running: 1 session open"))
    c.close()
    gw.proc.send_signal(signal.SIGHUP)
    reload_msgs = messages_until(s, "READY=1")
    text = "\n".join(reload_msgs)
    assert re.search(r"RELOADING=1\nMONOTONIC_USEC=\d+", text), text
    assert text.index("RELOADING=1") < text.index("READY=1")
    assert "generation 2" in text
    # a broken config: still READY, and the status says so
    with open(gw.conf, "a") as f:
        f.write("\n[bogus]\n")
    gw.proc.send_signal(signal.SIGHUP)
    text = "\n".join(messages_until(s, "READY=1"))
    assert "reload refused, the old config runs" in text
    gw.proc.send_signal(signal.SIGTERM)
    text = "\n".join(messages_until(s, "STOPPING=1"))
    assert "STOPPING=1" in text
    gw.proc.wait(timeout=30)
    # the children never got the variable
    assert "notify-error" not in gw.log()


def test_units_verify():
    units = os.path.join(ROOT, "dist", "systemd")
    for unit in ("mailout.service", "mailout-expire.service", "mailout-expire.timer"):
        text = open(os.path.join(units, unit)).read()
        assert "[Unit]" in text
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                        os.path.join(units, "mailout.service")],
                       capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: ([\d.]+)", r.stdout + r.stderr)
    assert m, r.stdout + r.stderr
    print(f"\nsystemd-analyze security: exposure {m.group(1)}")
    assert float(m.group(1)) < 3.0, r.stdout
