"""Acceptance 8 of the core issue: no accepted message is lost."""
import time

from conftest import Sink, free_port, wait_for
from smtpraw import Raw, tls_session


def send_one(g, rcpt="bob@example.edu", body=b"Subject: durable\r\n\r\nkeep me\r\n"):
    c = tls_session(g.port("mailout"))
    assert c.cmd("MAIL FROM:<alice@example.org>")[0] == 250
    assert c.cmd(f"RCPT TO:<{rcpt}>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(body + b".\r\n")
    code, lines = c.reply()
    assert code == 250, lines
    c.close()
    return lines[0].split()[-1]


def test_kill9_after_250_then_delivered_after_restart(make_gateway, sink):
    dead = free_port()
    g = make_gateway(relay={"next_hop": f"127.0.0.1:{dead}"}).start()
    qid = send_one(g)
    g.kill9()
    assert qid in g.spool_files("queue")
    g.relay["next_hop"] = f"127.0.0.1:{sink.port}"
    g.write_config()
    g.start()
    m = sink.wait_messages(1)[0]
    assert qid.encode() in m["data"] and b"keep me" in m["data"]
    wait_for(lambda: g.spool_files("queue") == [], what="queue empty")


def test_kill9_during_data_leaves_nothing(make_gateway, sink):
    g = make_gateway().start()
    c = tls_session(g.port("mailout"))
    c.cmd("MAIL FROM:<alice@example.org>")
    c.cmd("RCPT TO:<bob@example.edu>")
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: half\r\n\r\n" + b"partial line\r\n" * 200)
    wait_for(lambda: g.spool_files("incoming"), what="incoming file")
    g.kill9()
    c.close()
    g.start()
    g.wait_log(r"event=spool-swept")
    assert g.spool_files("incoming") == [] and g.spool_files("queue") == []
    time.sleep(1.5)
    assert sink.messages == []


def test_client_vanishes_mid_data(gateway, sink):
    c = tls_session(gateway.port("mailout"))
    c.cmd("MAIL FROM:<alice@example.org>")
    c.cmd("RCPT TO:<bob@example.edu>")
    c.cmd("DATA")
    c.send(b"Subject: gone\r\n\r\nhalf a message\r\n")
    c.close()
    gateway.wait_log(r"event=data-aborted")
    assert gateway.spool_files("incoming") == [] and gateway.spool_files("queue") == []
    time.sleep(1)
    assert sink.messages == []


def test_next_hop_down_for_a_while(make_gateway, certs):
    later = Sink()
    g = make_gateway(relay={"next_hop": f"127.0.0.1:{later.port}"}).start()
    qid = send_one(g)
    g.wait_log(r"event=deferred id=" + qid, count=2, timeout=15)
    later.start()
    try:
        m = later.wait_messages(1, timeout=15)[0]
        assert qid.encode() in m["data"]
    finally:
        later.stop()


def test_451_then_250_is_retried(make_gateway, sink):
    sink.handler.mode = "451-once"
    g = make_gateway().start()
    qid = send_one(g)
    g.wait_log(r"event=deferred id=%s .*reply=\"451 4.3.0" % qid)
    m = sink.wait_messages(1)[0]
    assert qid.encode() in m["data"]
    g.wait_log(r"event=delivered id=" + qid)


def test_550_for_one_recipient_bounces_it(make_gateway, sink):
    sink.handler.mode = "550-rcpt:nobody@example.edu"
    g = make_gateway().start()
    c = tls_session(g.port("mailout"))
    c.cmd("MAIL FROM:<alice@example.org>")
    c.cmd("RCPT TO:<bob@example.edu>")
    c.cmd("RCPT TO:<nobody@example.edu>")
    c.cmd("DATA")
    c.send(b"Subject: two\r\nMessage-ID: <two@example.org>\r\n\r\nhi\r\n.\r\n")
    assert c.reply()[0] == 250
    msgs = sink.wait_messages(2)
    orig = [m for m in msgs if m["from"] == "alice@example.org"][0]
    dsn = [m for m in msgs if m["from"] in ("", "<>")]
    assert dsn, (msgs, g.log())
    dsn = dsn[0]
    assert orig["to"] == ["bob@example.edu"]
    assert dsn["to"] == ["alice@example.org"]
    text = dsn["data"].decode()
    assert "multipart/report; report-type=delivery-status" in text
    assert "Final-Recipient: rfc822; nobody@example.edu" in text
    assert "Status: 5.1.1" in text and "Message-ID: <two@example.org>" in text
    wait_for(lambda: g.spool_files("queue") == [], what="queue empty")


def test_queue_list_shows_waiting_mail(make_gateway):
    import json
    import subprocess
    from conftest import MAILOUTCTL
    g = make_gateway(relay={"next_hop": f"127.0.0.1:{free_port()}"}).start()
    qid = send_one(g, rcpt="queued@example.edu")
    r = subprocess.run([MAILOUTCTL, "-c", g.conf, "queue", "list", "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    items = json.loads(r.stdout)
    assert [i["id"] for i in items] == [qid]
    assert items[0]["recipients"][0]["address"] == "queued@example.edu"
    assert items[0]["tls"].startswith("TLSv1.3")
