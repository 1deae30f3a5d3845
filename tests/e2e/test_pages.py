"""The pages, finished (issue #17): German everywhere (acceptance 4: the
visible text of every page in German holds no word of its English
version, beyond names and technical terms), the admin list usable at
1280 px with confirmations in a sentence and bulk actions with reasons,
the owner's renewal request through a mailed link, and /check on a phone."""
import email
import email.policy
import json
import re
import smtplib
import subprocess
import urllib.parse

import pytest

from conftest import day, prose, wait_for
from pagetext import visible_text, words
from test_web import (ADMIN_PASSWORD, ADMIN_USER, COPIER, admin_login, admins_file,  # noqa: F401
                      browser, click_and_wait, shot, web_gateway)
from webclient import WebClient

pytestmark = pytest.mark.dates

SUPPORT = "IT-Servicedesk, https://help.example.edu/"
# the same in both languages: technical terms, and German words an English
# sentence may hold as names
SHARED = {"tls", "starttls", "ssl", "smtp", "smtps", "server", "port", "status", "gateway",
          "mail", "e", "x", "header", "firmware", "update", "csv", "ip", "sni", "rc", "des",
          "cbc", "aead", "utc", "mailout", "example", "edu", "test", "admin", "ref", "no",
          "jjjj", "mm", "tt", "yyyy", "dd", "id", "https", "help", "clienthello", "client",
          "de", "en", "deutsch", "english", "n", "v", "a", "b",
          # words of both languages
          "an", "so", "in", "scan", "um", "am", "domain", "person", "link"}


def gateway_with_data(web_gateway):
    gw = web_gateway(support=SUPPORT, clients="127.0.0.0/8", register_networks="127.0.0.0/8",
                     admin_clients="127.0.0.1 127.0.0.5")
    gw.ctl("device", "add", "127.0.0.5", "--name", "Kopierer", "--owner", "anna@example.edu",
           "--expires", day(20), "--language", "de")
    gw.ctl("device", "add", "127.0.0.8", "--name", "Fax", "--owner", "carl@example.edu",
           "--expires", day(-2), "--force")
    c = WebClient(gw.web_url, source="127.0.0.9")
    assert c.post("/register", dict(COPIER, address="127.0.0.9", name="Scanner",
                                    csrf=WebClient.csrf(c.get("/register")[2])))[0] == 200
    wait_for(lambda: smtp_ok(gw), what="the registration in force")
    # a session in clear, a refused one, a TLS 1.0 client on the STARTTLS port
    with smtplib.SMTP("127.0.0.1", gw.port("mailout-unsecure"), timeout=10,
                      source_address=("127.0.0.5", 0)) as s:
        s.sendmail("scan@example.edu", ["lab@example.edu"], b"Subject: a\r\n\r\nb\r\n")
    with pytest.raises(smtplib.SMTPException):
        with smtplib.SMTP("127.0.0.1", gw.port("mailout-unsecure"), timeout=10,
                          source_address=("127.0.0.6", 0)) as s:
            s.sendmail("scan@example.edu", ["lab@example.edu"], b"x")
    subprocess.run(["sh", "-c", f"echo Q | timeout 5 openssl s_client -connect "
                    f"127.0.0.1:{gw.port('mailout-smtps')} -bind 127.0.0.5:0 -tls1 "
                    ">/dev/null 2>&1"])
    wait_for(lambda: "handshake" in gw.ctl("report", "sessions", "127.0.0.5").stdout, 15,
             what="the sessions recorded")
    return gw


def smtp_ok(gw):
    try:
        with smtplib.SMTP("127.0.0.1", gw.port("mailout-unsecure"), timeout=5,
                          source_address=("127.0.0.5", 0)) as s:
            return s.noop()[0] == 250
    except (smtplib.SMTPException, OSError):
        return False


def pages(gw, lang):
    """Every page a reader meets, in one language."""
    h = {"Accept-Language": lang}
    out = {}
    anon = WebClient(gw.web_url, source="127.0.0.7", headers=h)
    out["guide"] = anon.get("/")[2]
    out["register"] = anon.get("/register")[2]
    out["register-errors"] = anon.post("/register", {
        "csrf": WebClient.csrf(out["register"]), "owner_email": "x"})[2]
    out["check-other"] = anon.get("/check?address=127.0.0.6")[2]
    out["check-bad"] = anon.get("/check?address=nonsense")[2]
    out["404"] = anon.get("/nothing")[2]
    dev = WebClient(gw.web_url, source="127.0.0.5", headers=h)
    out["check-own"] = dev.get("/check")[2]
    refused = WebClient(gw.web_url, source="127.0.0.6", headers=h)
    out["check-refused"] = refused.get("/check")[2]
    admin = WebClient(gw.web_url, headers=h)
    out["login"] = admin.get("/admin")[2]
    admin.login(ADMIN_USER, ADMIN_PASSWORD)
    out["admin"] = admin.get("/admin")[2]
    out["admin-done"] = admin.get("/admin?done=renew&ids=1,2")[2]
    return out


def test_german_pages_hold_no_english_word(web_gateway):
    gw = gateway_with_data(web_gateway)
    en, de = pages(gw, "en"), pages(gw, "de")
    data = words(" ".join([json.dumps(json.loads(gw.ctl("device", "list", "--json").stdout)),
                           SUPPORT, "Example University mailout-unsecure mailout-smtps",
                           COPIER["reason"], "127.0.0.1", ADMIN_USER]))
    english = {}
    for name in en:
        text_en, text_de = visible_text(en[name]), visible_text(de[name])
        assert '<html lang="de">' in de[name], name
        left = (words(text_en) & words(text_de)) - SHARED - data
        print(f"== {name}\n{text_de}")
        if left:
            english[name] = sorted(left)
    assert not english, f"English on the German pages: {english}"
    # what the German pages say, where the English ones would differ
    assert "TLS-Aufbau fehlgeschlagen: bietet nur TLS 1.0" in visible_text(de["check-own"])
    assert "gültig bis zum " + prose(day(20), "de") in visible_text(de["check-own"])
    assert "bei der Verbindung abgewiesen" in visible_text(de["check-refused"])
    assert "1 Nachricht angenommen" in visible_text(de["check-own"])
    assert "abgelaufen" in visible_text(de["admin"]) and "wartet" in visible_text(de["admin"])
    assert "Das Gerät hat keine Einstellung für Verschlüsselung" in visible_text(de["admin"])
    assert "Hilfe beim Einrichten eines Geräts: IT-Servicedesk" in visible_text(de["guide"])
    assert '<a href="https://help.example.edu/">' in de["check-own"]
    assert "bietet nur TLS 1.0" in visible_text(de["admin"])  # the diagnosis on the admin page
    assert "offers only TLS 1.0" in visible_text(en["admin"])
    # the use over the transition and the suggestion, on the admin page
    assert "am besten: unverschlüsselt" in visible_text(de["admin"])
    assert "best: unencrypted" in visible_text(en["admin"])
    assert "Noch unverschlüsselt: verlängern oder ersetzen." in visible_text(de["admin"])


def test_bulk_actions_and_confirmations(web_gateway):
    gw = web_gateway()
    for i, addr in enumerate(("127.0.0.5", "127.0.0.7", "127.0.0.8"), 1):
        gw.ctl("device", "add", addr, "--name", f"copier {i}", "--owner", "it@example.edu",
               "--expires", day(10))
    a = WebClient(gw.web_url)
    a.login(ADMIN_USER, ADMIN_PASSWORD)
    tok = WebClient.csrf(a.get("/admin")[2])
    status, headers, _ = a.request("POST", "/admin/bulk", urllib.parse.urlencode(
        [("csrf", tok), ("op", "renew"), ("expires", day(300)), ("reason", "budget 2028"),
         ("ids", "1"), ("ids", "3")]), {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 303, status
    page = a.get(headers["Location"])[2]
    done = re.search(r'id="done">(.*?)</p>', page).group(1)
    assert done == f"Registrations 1 (copier 1) and 3 (copier 3) renewed until {prose(day(300))}."
    devices = {d["id"]: d for d in json.loads(gw.ctl("device", "list", "--json").stdout)}
    assert devices[1]["expires"] == day(300) and devices[2]["expires"] == day(10)
    assert "budget 2028" in gw.ctl("device", "history", "3").stdout
    # let expire needs a reason, and records it
    form = [("csrf", tok), ("op", "let-expire"), ("ids", "2")]
    body = urllib.parse.urlencode(form + [("reason", " ")])
    ctype = {"Content-Type": "application/x-www-form-urlencoded"}
    assert a.request("POST", "/admin/bulk", body, ctype)[0] == 422
    status, headers, _ = a.request("POST", "/admin/bulk", urllib.parse.urlencode(
        form + [("reason", "replaced by a new copier")]), ctype)
    page = a.get(headers["Location"])[2]
    assert f"Registration 2 (copier 2) will run out on {prose(day(10))}: not renewed." in page
    assert "let expire: replaced by a new copier" in page
    assert "let-expire" in gw.ctl("device", "history", "2").stdout
    # the same in German
    page = WebClient(gw.web_url, headers={"Accept-Language": "de"})
    page.cookies = a.cookies
    text = visible_text(page.get(headers["Location"])[2])
    assert f"Registrierung 2 (copier 2) läuft am {prose(day(10), 'de')} aus" in text
    # a refusal, in German too (the log keeps the registry's English)
    status, _, body = page.post("/admin/action", {"csrf": tok, "id": 1, "op": "renew",
                                                  "expires": day(-3)})
    assert status == 422 and "Das Datum liegt in der Vergangenheit" in body
    assert "has passed" not in visible_text(body)
    gw.wait_log(r"event=web-admin-action .*result=refused error=\"the expiry .* has passed")


def test_owner_asks_for_renewal_by_mailed_link(web_gateway, sink):
    gw = web_gateway(clients="127.0.0.0/8")
    gw.ctl("device", "add", "127.0.0.5", "--name", "Kopierer", "--owner", "anna@example.edu",
           "--expires", day(5), "--language", "de")
    dev = WebClient(gw.web_url, source="127.0.0.5")
    page = dev.get("/check")[2]
    assert 'id="renew-link"' in page
    status, _, page = dev.post("/check/renew-link", {"csrf": WebClient.csrf(page), "id": "1"})
    assert status == 200 and "a…@example.edu" in page, page
    [msg] = sink.wait_messages(1)
    mail = email.message_from_bytes(msg["data"], policy=email.policy.default)
    assert msg["to"] == ["anna@example.edu"]
    link = re.search(r"https://mailout\.test(/check/renew\?\S+)", mail.get_content()).group(1)
    assert "Verlängerung der Registrierung 1 beantragen" == str(mail["Subject"])
    # at most one link an hour
    dev.post("/check/renew-link", {"csrf": WebClient.csrf(dev.get("/check")[2]), "id": "1"})
    # someone else's address cannot ask
    other = WebClient(gw.web_url, source="127.0.0.6")
    assert other.post("/check/renew-link", {"csrf": WebClient.csrf(other.get("/register")[2]),
                                            "id": "1"})[0] == 403
    # a forged signature is refused
    owner = WebClient(gw.web_url, source="127.0.0.7")
    assert owner.get(re.sub(r"sig=\w+", "sig=" + "0" * 32, link))[0] == 403
    status, _, form = owner.get(link)
    assert status == 200 and 'name="reason"' in form
    status, _, page = owner.post("/check/renew", {
        "csrf": WebClient.csrf(form), "reason": "Firmware-Update kommt im März",
        **dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link).query))})
    assert status == 200 and "is recorded" in page, page
    [d] = json.loads(gw.ctl("device", "list", "--json").stdout)
    assert d["renewal_request"] == f"{day(0)} by anna@example.edu: Firmware-Update kommt im März"
    a = WebClient(gw.web_url)
    a.login(ADMIN_USER, ADMIN_PASSWORD)
    assert "Renewal requested: " + d["renewal_request"] in visible_text(a.get("/admin")[2])
    assert len(sink.messages) == 1
    # the admin's renewal answers it
    a.post("/admin/action", {"csrf": WebClient.csrf(a.get("/admin")[2]), "id": 1,
                             "op": "renew", "expires": day(100)})
    [d] = json.loads(gw.ctl("device", "list", "--json").stdout)
    assert d["renewal_request"] == "" and d["expires"] == day(100)


def assert_no_sideways_scroll(browser, what):
    width = browser.execute_script("return document.documentElement.scrollWidth")
    inner = browser.execute_script("return window.innerWidth")
    assert width <= inner, f"{what} scrolls sideways: {width} > {inner}"


@pytest.mark.parametrize("lang", ["en", "de"])
def test_admin_list_fits_1280_and_check_fits_a_phone(web_gateway, browser, lang):
    from selenium.webdriver.common.by import By

    gw = gateway_with_data(web_gateway)
    base = gw.web_url
    browser.get(f"{base}/?lang={lang}")
    browser.set_window_size(1280, 1000)
    admin_login(browser, base)
    browser.get(f"{base}/admin")
    shot(browser, f"admin-1280-{lang}.png")
    assert_no_sideways_scroll(browser, "the admin list")
    row = browser.find_element(By.ID, "device-1")
    assert row.find_element(By.CSS_SELECTOR, "button[value=renew-1]").is_displayed()
    # an action, confirmed in a sentence
    exp = row.find_element(By.CSS_SELECTOR, "form input[name=expires]")
    exp.clear()
    exp.send_keys(day(60))
    click_and_wait(browser, row.find_element(By.CSS_SELECTOR, "button[value=renew-1]"))
    want = {"en": f"Registration 1 (Kopierer) renewed until {prose(day(60))}.",
            "de": f"Registrierung 1 (Kopierer) bis zum {prose(day(60), 'de')} verlängert."}
    assert browser.find_element(By.ID, "done").text == want[lang]
    shot(browser, f"admin-done-{lang}.png")
    # /check on a phone: every column of every session shows
    browser.set_window_size(390, 844)
    browser.get(f"{base}/check?address=127.0.0.5")
    shot(browser, f"check-phone-{lang}.png")
    assert_no_sideways_scroll(browser, "/check on a phone")
    cells = browser.find_elements(By.CSS_SELECTOR, "#sessions td")
    assert cells and all(c.is_displayed() and c.rect["width"] > 0 for c in cells)
    labels = browser.execute_script(
        "return [...document.querySelectorAll('#sessions td')].map("
        "td => getComputedStyle(td, '::before').content)")
    assert all(label.strip('"') for label in labels), labels
