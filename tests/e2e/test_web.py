"""The registration and admin pages (issue #4): a real browser (headless
Chromium through Selenium) and raw HTTP requests from chosen addresses
against a running mailoutd, mail checked at the sink.

Addresses: 127.0.0.1 plays the admin's desk and the browser, 127.0.0.5 the
copier being registered, 127.0.0.6 an unregistered device, 127.0.0.7 an
operator's PC (in [web] clients but not admin_clients), 127.0.0.9 an
address outside [web] clients. Screenshots land in test-output/web/.
"""
import csv
import json
import os
import re
import shutil
import signal
import smtplib
import ssl
import select
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import MAILOUTCTL, ROOT, day, prose, wait_for
from webclient import WebClient

pytestmark = pytest.mark.dates

ADMIN_USER = "alice"
ADMIN_PASSWORD = "correct horse 42"
SHOTS = os.path.join(ROOT, "test-output", "web")
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync"]
# Dates relative to the gateway's clock (conftest.now()): the tests pass on
# any day, and make check runs them again a year and a half ahead.
CUTOVER = day(30)
DEFAULT_EXPIRY = day(200)
LISTENERS = {
    "mailout": {"tls": "required"},
    "mailout-smtps": {"tls": "implicit"},
    "mailout-unsecure": {"tls": "off", "clients": "registered", "recipients": "internal"},
}


@pytest.fixture
def admins_file():
    d = tempfile.mkdtemp(prefix="mailout-admins-")
    line = subprocess.run([MAILOUTCTL, "web", "passwd", ADMIN_USER], input=ADMIN_PASSWORD + "\n",
                          capture_output=True, text=True, check=True).stdout
    assert line.startswith(ADMIN_USER + ":$y$"), line
    path = os.path.join(d, "web-admins")
    with open(path, "w") as f:
        f.write("# web admins\n" + line)
    os.chmod(path, 0o600)  # root only: the master reads it before dropping privileges
    yield path
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def web_gateway(make_gateway, admins_file):
    def make(**web):
        conf = {"clients": "127.0.0.1 127.0.0.5 127.0.0.6 127.0.0.7",
                "admin_clients": "127.0.0.1", "register_networks": "127.0.0.0/24",
                "admins": admins_file, "cutover": CUTOVER,
                "organisation": "Example University"}
        conf.update(web)
        return make_gateway(listeners=LISTENERS, web=conf,
                            registry={"default_expiry": DEFAULT_EXPIRY}).start()
    return make


def devices(gw):
    return json.loads(gw.ctl("device", "list", "--json").stdout)


def send_plain(gw, source, rcpt="lab@example.edu"):
    with smtplib.SMTP("127.0.0.1", gw.port("mailout-unsecure"), timeout=10,
                      source_address=(source, 0)) as s:
        s.sendmail("copier@example.edu", [rcpt], b"Subject: scan\r\n\r\nscanned page\r\n")


# ---- the browser ----

@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="mailout-chromium-")
    opts = Options()
    for flag in CHROME_FLAGS + [f"--user-data-dir={profile}", "--window-size=1280,1000"]:
        opts.add_argument(flag)
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    driver.set_page_load_timeout(30)
    os.makedirs(SHOTS, exist_ok=True)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def shot(driver, name):
    driver.save_screenshot(os.path.join(SHOTS, name))


def fill(driver, values):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    for name, value in values.items():
        el = driver.find_element(By.NAME, name)
        if el.tag_name == "select":
            Select(el).select_by_value(value)
        else:
            el.clear()
            el.send_keys(value)


COPIER = {"name": "Copier 3rd floor", "manufacturer": "Canon", "model": "iR-ADV C5235",
          "address": "127.0.0.5", "location": "Building A, room 312",
          "owner_name": "Lab Manager", "owner_email": "lab@example.edu",
          "org_unit": "Physics", "reason": "no-tls", "replacement": "2027 budget"}


def click_and_wait(driver, element):
    """Click a submit button and wait until the next page has replaced this one."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    element.click()

    def replaced(_):
        # Chromium reports a node of the old document as stale, or (while
        # the new one loads) as "does not belong to the document": both mean gone.
        try:
            old.is_enabled()
            return False
        except WebDriverException:
            return True
    WebDriverWait(driver, 15).until(replaced)


def admin_login(driver, base):
    from selenium.webdriver.common.by import By

    driver.get(base + "/admin")
    fill(driver, {"user": ADMIN_USER, "password": ADMIN_PASSWORD})
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.fields button[type=submit]"))


def register_in_browser(driver, base, values):
    from selenium.webdriver.common.by import By

    driver.get(base + "/register")
    fill(driver, values)
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.fields button[type=submit]"))


def test_browser_register_approve_send(web_gateway, browser, sink):
    """Acceptance 1 and 4: register in the browser, see the reference, an
    admin approves it, the device's plaintext mail then arrives."""
    from selenium.webdriver.common.by import By

    gw = web_gateway()
    base = gw.web_url
    browser.get(base + "/")
    body = browser.find_element(By.TAG_NAME, "body").text
    assert prose(CUTOVER) in body and "STARTTLS" in body and "mailout.test" in body
    assert str(gw.port("mailout")) in body and str(gw.port("mailout-smtps")) in body
    shot(browser, "guide.png")
    browser.set_window_size(390, 844)  # a phone
    shot(browser, "guide-phone.png")
    browser.set_window_size(1280, 1000)
    browser.get(base + "/?lang=de")
    assert f"Ab dem {prose(CUTOVER, 'de')}" in browser.find_element(By.TAG_NAME, "body").text
    shot(browser, "guide-de.png")
    browser.get(base + "/register?lang=en")  # the switch back, kept in a cookie

    browser.get(base + "/register")
    assert browser.find_element(By.NAME, "address").get_attribute("value") == "127.0.0.1"
    shot(browser, "register-form.png")
    register_in_browser(browser, base, COPIER)
    ref = browser.find_element(By.ID, "reference").text
    assert ref.isdigit(), browser.page_source[:2000]
    shot(browser, "register-done.png")
    [d] = devices(gw)
    assert str(d["id"]) == ref and d["status"] == "pending" and d["owner_email"] == "lab@example.edu"

    # pending is not enough for the unencrypted listener
    with pytest.raises(smtplib.SMTPException):
        send_plain(gw, "127.0.0.5")

    browser.get(base + "/admin")
    assert browser.find_elements(By.ID, "devices") == []  # the login form, not the list
    admin_login(browser, base)
    row = browser.find_element(By.ID, f"device-{ref}")
    assert "pending" in row.text and "Copier 3rd floor" in row.text
    shot(browser, "admin-list.png")
    exp = row.find_element(By.CSS_SELECTOR, "form input[name=expires]")
    exp.clear()
    exp.send_keys(day(120))
    click_and_wait(browser, row.find_element(By.CSS_SELECTOR, f"button[value=approve-{ref}]"))
    assert browser.find_element(By.ID, "done").text == \
        f"Registration {ref} (Copier 3rd floor) approved until {prose(day(120))}."
    assert "approved" in browser.find_element(By.ID, f"device-{ref}").text
    shot(browser, "admin-approved.png")
    [d] = devices(gw)
    assert d["status"] == "approved" and d["expires"] == day(120)
    history = gw.ctl("device", "history", ref).stdout
    assert "alice (web)" in history and "web form (127.0.0.1)" in history

    send_plain(gw, "127.0.0.5")
    [m] = sink.wait_messages(1)
    assert m["to"] == ["lab@example.edu"] and b"scanned page" in m["data"]


def test_browser_field_errors_store_nothing(web_gateway, browser):
    """Acceptance 2: a malformed address and a duplicate registration show
    errors next to the field; nothing is stored for them."""
    from selenium.webdriver.common.by import By

    gw = web_gateway()
    base = gw.web_url
    register_in_browser(browser, base, dict(COPIER, address="10.1.2"))
    err = browser.find_element(By.ID, "address-error").text
    assert "Not an IP address" in err
    assert browser.find_element(By.NAME, "address").get_attribute("aria-invalid") == "true"
    assert browser.find_element(By.NAME, "name").get_attribute("value") == COPIER["name"]
    shot(browser, "register-error.png")
    assert devices(gw) == []

    register_in_browser(browser, base, dict(COPIER, address="192.0.2.10"))
    assert "outside the networks" in browser.find_element(By.ID, "address-error").text
    register_in_browser(browser, base, dict(COPIER, owner_email=""))
    assert "Required" in browser.find_element(By.ID, "owner_email-error").text
    register_in_browser(browser, base, dict(COPIER, owner_email="not-an-address"))
    assert "Not an email address" in browser.find_element(By.ID, "owner_email-error").text
    assert devices(gw) == []

    register_in_browser(browser, base, COPIER)
    ref = browser.find_element(By.ID, "reference").text
    register_in_browser(browser, base, dict(COPIER, name="Second copier"))
    err = browser.find_element(By.ID, "address-error").text
    assert "already registered" in err and ref in err
    shot(browser, "register-duplicate.png")
    assert [d["name"] for d in devices(gw)] == [COPIER["name"]]


def test_check_shows_plaintext_and_refused_sessions(web_gateway, browser):
    """Acceptance 3: /check shows the client's plaintext refusal and its
    refused MAIL without STARTTLS, with TLS state and reason."""
    from selenium.webdriver.common.by import By

    gw = web_gateway()
    # 1: unregistered device on the unencrypted listener: refused at connect
    with pytest.raises(smtplib.SMTPException):
        send_plain(gw, "127.0.0.6")
    # 2: the STARTTLS listener without STARTTLS: MAIL refused with 530
    with smtplib.SMTP("127.0.0.1", gw.port("mailout"), timeout=10,
                      source_address=("127.0.0.6", 0)) as s:
        s.ehlo()
        code, _ = s.mail("copier@example.edu")
        assert code == 530
    # 3: and properly, over TLS
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with smtplib.SMTP_SSL("127.0.0.1", gw.port("mailout-smtps"), timeout=10, context=ctx,
                          source_address=("127.0.0.6", 0)) as s:
        s.sendmail("copier@example.edu", ["lab@example.edu"], b"Subject: t\r\n\r\nok\r\n")

    # the workers write the record in batches (every 2 s)
    c = WebClient(gw.web_url, source="127.0.0.6")
    page = wait_for(lambda: (lambda p: p.count("<tr><td ") >= 3 and p)(c.get("/check")[2]),
                    15, what="three sessions on /check")
    rows = re.findall(r"<tr><td .*?</tr>", page)
    assert len(rows) == 3, rows
    tls_row, refused_mail, refused_connect = rows  # newest first
    assert "TLS 1.3" in tls_row and "accepted 1 message" in tls_row
    assert "unencrypted" in refused_mail and "530" in refused_mail and "mailout<" in refused_mail
    assert "unencrypted" in refused_connect and "refused at connect" in refused_connect
    assert "mailout-unsecure" in refused_connect and "not registered" in page.lower()

    # the browser (from 127.0.0.1) types the device's address
    browser.get(gw.web_url + "/check?address=127.0.0.6")
    table = browser.find_element(By.ID, "sessions").text
    assert "unencrypted" in table and "refused at connect" in table and "530" in table
    shot(browser, "check.png")
    # an address outside [web] clients cannot be looked up
    status, _, page = WebClient(gw.web_url).get("/check?address=10.9.9.9")
    assert 'id="address-error"' in page and "<table" not in page


def test_forged_post_without_csrf_is_refused(web_gateway):
    """Acceptance 5: POSTs without the right CSRF token change nothing."""
    gw = web_gateway()
    c = WebClient(gw.web_url, source="127.0.0.5")
    c.get("/register")  # has a visitor cookie now
    fields = {k: v for k, v in COPIER.items()}
    status, _, page = c.post("/register", fields)
    assert status == 403 and "expired" in page
    other = WebClient(gw.web_url, source="127.0.0.5")
    _, _, form = other.get("/register")
    status, _, _ = c.post("/register", dict(fields, csrf=WebClient.csrf(form)))
    assert status == 403  # another visitor's token
    bare = WebClient(gw.web_url, source="127.0.0.5")  # no cookie at all
    status, _, _ = bare.post("/register", dict(fields, csrf="0" * 64))
    assert status == 403
    assert devices(gw) == []

    admin = WebClient(gw.web_url)
    assert admin.login(ADMIN_USER, ADMIN_PASSWORD)[0] == 303
    status, _, _ = c.post("/register", dict(fields, csrf=c.csrf(c.get("/register")[2])))
    assert status == 200
    [d] = devices(gw)
    # a logged-in admin's session without the token cannot approve
    status, _, _ = admin.post("/admin/action", {"id": d["id"], "op": "approve"})
    assert status == 403
    assert devices(gw)[0]["status"] == "pending"
    assert "event=web-csrf-refused" in gw.log()


def test_admin_needs_login_and_address(web_gateway):
    """Acceptance 5: no admin page without a login, none from an address
    outside clients or admin_clients."""
    gw = web_gateway()
    gw.ctl("device", "add", "127.0.0.5", "--name", "copier", "--owner", "lab@example.edu")
    anon = WebClient(gw.web_url)
    for path in ("/admin", "/admin/export.csv"):
        status, _, page = anon.get(path)
        assert status == 403 and "copier" not in page and "lab@example.edu" not in page
    status, _, page = anon.post("/admin/action", {"id": "1", "op": "revoke", "note": "x",
                                                 "csrf": WebClient.csrf(anon.get("/admin")[2])})
    assert status == 403
    assert devices(gw)[0]["status"] == "approved"

    outside = WebClient(gw.web_url, source="127.0.0.9")
    for path in ("/", "/admin", "/check", "/register"):
        assert outside.get(path)[0] == 403
    operator = WebClient(gw.web_url, source="127.0.0.7")  # in clients, not admin_clients
    assert operator.get("/")[0] == 200
    status, _, page = operator.get("/admin")
    assert status == 403 and "cannot be reached from your address" in page
    assert 'href="/admin"' not in operator.get("/")[2]  # no admin link either
    # even with a session cookie stolen from the admin
    admin = WebClient(gw.web_url)
    assert admin.login(ADMIN_USER, ADMIN_PASSWORD)[0] == 303
    operator.cookies.update(admin.cookies)
    status, _, page = operator.get("/admin")
    assert status == 403 and "copier" not in page
    assert "event=web-admin-refused client=127.0.0.7" in gw.log()


def test_script_in_device_name_is_text(web_gateway, browser):
    """Acceptance 5: a script tag in the device name is shown as text."""
    from selenium.webdriver.common.by import By

    gw = web_gateway()
    evil = "<script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\">Copier"
    register_in_browser(browser, gw.web_url, dict(COPIER, name=evil))
    assert browser.find_element(By.ID, "reference").text.isdigit()
    assert browser.execute_script("return window.pwned") is None
    admin_login(browser, gw.web_url)
    row = browser.find_element(By.ID, "device-1")
    assert evil in row.text  # shown literally
    assert browser.execute_script("return window.pwned") is None
    assert row.find_elements(By.TAG_NAME, "script") == [] and row.find_elements(By.TAG_NAME, "img") == []
    assert "&lt;script&gt;" in browser.page_source
    assert devices(gw)[0]["name"] == evil  # stored as given


def test_login_rate_limit(web_gateway):
    gw = web_gateway(admin_clients="127.0.0.1 127.0.0.5")
    c = WebClient(gw.web_url)
    for _ in range(5):
        status, _, page = c.login(ADMIN_USER, "wrong password")
        assert status == 403 and "Wrong user name or password" in page
    status, _, page = c.login(ADMIN_USER, ADMIN_PASSWORD)  # right, but too late
    assert status == 429 and "Too many failed logins" in page
    assert "mo_s" not in c.cookies
    # another address is not affected
    assert WebClient(gw.web_url, source="127.0.0.5").login(ADMIN_USER, ADMIN_PASSWORD)[0] == 303
    assert gw.log().count("event=web-login-failed") == 5
    assert "event=web-login-limited" in gw.log()


def test_session_cookie_flags_logout_and_unknown_user(web_gateway):
    gw = web_gateway()
    c = WebClient(gw.web_url)
    assert c.login("mallory", ADMIN_PASSWORD)[0] == 403
    status, headers, _ = c.login(ADMIN_USER, ADMIN_PASSWORD)
    assert status == 303 and headers["Location"] == "/admin"
    [sc] = [h for h in c.last_set_cookie if h.startswith("mo_s=")]
    assert "HttpOnly" in sc and "SameSite=Strict" in sc and "Secure" not in sc
    status, headers, page = c.get("/admin")
    assert status == 200 and 'id="devices"' in page and headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    c.post("/admin/logout", {"csrf": WebClient.csrf(page)})
    assert "mo_s" not in c.cookies
    assert c.get("/admin")[0] == 403


def test_admin_reject_revoke_renew_filter_export(web_gateway):
    gw = web_gateway()
    for i, addr in enumerate(["127.0.0.20", "127.0.0.21", "127.0.0.22"]):
        c = WebClient(gw.web_url, source="127.0.0.5")
        page = c.get("/register")[2]
        status, _, _ = c.post("/register", dict(COPIER, address=addr, name=f"dev{i}",
                                                csrf=WebClient.csrf(page)))
        assert status == 200
    a = WebClient(gw.web_url)
    a.login(ADMIN_USER, ADMIN_PASSWORD)
    tok = WebClient.csrf(a.get("/admin")[2])
    assert a.post("/admin/action", {"csrf": tok, "id": 1, "op": "reject"})[0] == 422  # no reason
    assert a.post("/admin/action", {"csrf": tok, "id": 1, "op": "reject",
                                    "note": "has a TLS option"})[0] == 303
    assert a.post("/admin/action", {"csrf": tok, "id": 2, "op": "approve", "expires": ""})[0] == 303
    assert a.post("/admin/action", {"csrf": tok, "id": 3, "op": "approve",
                                    "expires": day(45)})[0] == 303
    assert a.post("/admin/action", {"csrf": tok, "id": 3, "op": "renew",
                                    "expires": day(75)})[0] == 303
    assert a.post("/admin/action", {"csrf": tok, "id": 2, "op": "revoke",
                                    "note": "replaced"})[0] == 303
    assert a.post("/admin/action", {"csrf": tok, "id": 3, "op": "approve",
                                    "expires": "31.12.2027"})[0] == 422
    st = {d["id"]: (d["status"], d["expires"]) for d in devices(gw)}
    assert st == {1: ("rejected", ""), 2: ("revoked", DEFAULT_EXPIRY), 3: ("approved", day(75))}
    page = a.get("/admin?status=approved")[2]
    assert "device-3" in page and "device-1" not in page and "device-2" not in page
    page = a.get(f"/admin?status=approved&expiring={day(60)}")[2]
    assert "device-3" not in page
    status, headers, csv = a.get("/admin/export.csv")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert "attachment" in headers["Content-Disposition"]
    lines = csv.strip().split("\r\n")
    assert lines[0].startswith("id,address,status,name") and len(lines) == 4
    assert '"has a TLS option"' in lines[1] and '"alice (web)"' in lines[1]
    hist = gw.ctl("device", "history", "2").stdout
    assert "approved" in hist and "revoked" in hist and "alice (web)" in hist


def test_csv_export_neutralises_formulas(web_gateway):
    gw = web_gateway()
    c = WebClient(gw.web_url, source="127.0.0.5")
    page = c.get("/register")[2]
    c.post("/register", dict(COPIER, name="=HYPERLINK(\"http://x\")", csrf=WebClient.csrf(page)))
    a = WebClient(gw.web_url)
    a.login(ADMIN_USER, ADMIN_PASSWORD)
    csv = a.get("/admin/export.csv")[2]
    assert '"\'=HYPERLINK(""http://x"")"' in csv


def test_language_choice(web_gateway):
    gw = web_gateway()
    de = WebClient(gw.web_url, headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.8"})
    status, headers, page = de.get("/")
    assert status == 200 and headers["Content-Language"] == "de"
    assert f"Ab dem <b>{prose(CUTOVER, 'de')}</b>" in page and '<html lang="de">' in page
    en = WebClient(gw.web_url, headers={"Accept-Language": "en-GB,de;q=0.5"})
    assert f"From <b>{prose(CUTOVER)}</b>" in en.get("/")[2]
    # the switch wins over the header and is remembered
    page = de.get("/register?lang=en")[2]
    assert "Register a device" in page and de.cookies.get("mo_lang") == "en"
    assert de.get("/check")[1]["Content-Language"] == "en"


@pytest.mark.parametrize("days,en,de", [(30, "From", "Ab dem"), (0, "Since", "Seit dem"),
                                         (-30, "Since", "Seit dem")])
def test_guide_before_and_after_cutover(web_gateway, days, en, de):
    """The guide's sentence follows the gateway's clock: "From"/"Ab dem"
    before the cut-over, "Since"/"Seit dem" from that day on."""
    cut = day(days)
    gw = web_gateway(cutover=cut)
    assert f"{en} <b>{prose(cut)}</b>" in WebClient(gw.web_url).get("/?lang=en")[2]
    assert f"{de} <b>{prose(cut, 'de')}</b>" in WebClient(gw.web_url).get("/?lang=de")[2]


def test_limits_and_unknown_paths(web_gateway):
    gw = web_gateway()
    c = WebClient(gw.web_url)
    page = c.get("/register")[2]
    status, _, _ = c.post("/register", dict(COPIER, csrf=WebClient.csrf(page),
                                            location="x" * 20000))
    assert status == 413
    status, _, page = c.post("/register", dict(COPIER, csrf=WebClient.csrf(page),
                                               location="y" * 201))
    assert status == 422 and "At most 200 characters" in page
    status, _, _ = c.request("POST", "/register", "csrf=%zz",
                             {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400
    assert c.get("/nope")[0] == 404
    status, headers, _ = c.request("DELETE", "/")
    assert status == 405 and headers["Content-Type"].startswith("text/html")
    assert "client=127.0.0.1 method=other path=/ status=405" in gw.log()
    assert c.get("/style.css")[1]["Content-Type"].startswith("text/css")
    assert devices(gw) == []


def test_https_web_pages(web_gateway, certs):
    gw = web_gateway(certificate=f"{certs}/ecdsa.pem", key=f"{certs}/ecdsa.key")
    assert gw.web_url.startswith("https://")
    c = WebClient(gw.web_url)
    status, headers, page = c.get("/")
    assert status == 200 and "Strict-Transport-Security" in headers
    assert any("Secure" in h for h in c.last_set_cookie)
    out = subprocess.run(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}",
                          gw.web_url + "/check"], capture_output=True, text=True, timeout=20)
    assert out.stdout == "200"


def test_web_config_errors(make_gateway, tmp_path):
    gw = make_gateway(web={"certificate": "/nonexistent.pem"})
    r = gw.ctl("check", check=False)
    assert r.returncode == 1 and "needs both certificate and key" in r.stderr
    assert "needs [registry] database" in r.stderr


def test_admins_file_reread_on_sighup(web_gateway, admins_file):
    gw = web_gateway()
    line = subprocess.run([MAILOUTCTL, "web", "passwd", "bob"], input="bobs password\n",
                          capture_output=True, text=True, check=True).stdout
    with open(admins_file, "a") as f:
        f.write(line)
    assert WebClient(gw.web_url).login("bob", "bobs password")[0] == 403
    os.kill(gw.proc.pid, signal.SIGHUP)
    gw.wait_log("event=web-stopped")
    gw.wait_log("event=web-started", count=2)
    assert WebClient(gw.web_url).login("bob", "bobs password")[0] == 303
    # a broken admins file is refused at reload; the old config stays
    with open(admins_file, "a") as f:
        f.write("carol\n")
    os.kill(gw.proc.pid, signal.SIGHUP)
    gw.wait_log("event=reload-failed")
    assert "web-admins: line 4" in gw.log()
    assert WebClient(gw.web_url).login("bob", "bobs password")[0] == 303


def test_web_process_restarted_after_crash(web_gateway):
    gw = web_gateway()
    [pid] = re.findall(r"child-started pid=(\d+) role=web", gw.log())
    os.kill(int(pid), signal.SIGKILL)
    gw.wait_log(r"child-crashed pid=%s role=web" % pid)
    gw.wait_log("event=web-started", count=2)
    assert WebClient(gw.web_url).get("/")[0] == 200
    # SMTP went on meanwhile
    assert gw.log().count("role=smtp") == 1


def test_check_prints_the_web_pages(web_gateway):
    gw = web_gateway()
    out = gw.ctl("check").stdout
    assert f"web pages: {gw.web_url}/ for 127.0.0.1 127.0.0.5 127.0.0.6 127.0.0.7; " \
           f"/admin for 127.0.0.1; admins from " in out


def test_legacy_tls_from_the_approve_form_and_in_the_export(web_gateway):
    """Correctness issue, part 4: a device registered on the form as "only
    TLS 1.0/1.1" can be approved with legacy TLS on the admin page (the box
    is ticked for it), and the CSV export has the legacy_tls column."""
    gw = web_gateway()
    c = WebClient(gw.web_url, source="127.0.0.5")
    page = c.get("/register")[2]
    assert c.post("/register", dict(COPIER, reason="old-tls",
                                    csrf=WebClient.csrf(page)))[0] == 200
    a = WebClient(gw.web_url)
    a.login(ADMIN_USER, ADMIN_PASSWORD)
    page = a.get("/admin")[2]
    row = re.search(r'<tr id="device-1">.*?</tr>', page, re.S).group(0)
    assert re.search(r'name="legacy_tls" value="1" checked', row), row
    tok = WebClient.csrf(page)
    assert a.post("/admin/action", {"csrf": tok, "id": 1, "op": "approve", "expires": day(30),
                                    "legacy_set": "1", "legacy_tls": "1"})[0] == 303
    [d] = devices(gw)
    assert d["status"] == "approved" and d["legacy_tls"] is True
    lines = a.get("/admin/export.csv")[2].strip().split("\r\n")
    head = lines[0].split(",")
    assert "legacy_tls" in head
    assert next(csv.reader([lines[1]]))[head.index("legacy_tls")] == "yes"
    # unticked on renew: taken away
    assert a.post("/admin/action", {"csrf": tok, "id": 1, "op": "renew", "expires": day(40),
                                    "legacy_set": "1"})[0] == 303
    assert devices(gw)[0]["legacy_tls"] is False
    # a date that has passed is refused on the page too
    status, _, page = a.post("/admin/action", {"csrf": tok, "id": 1, "op": "renew",
                                               "expires": day(-2)})
    assert status == 422 and "has passed" in page


def test_refusal_names_the_pending_registration_after_an_expired_one(web_gateway):
    """Correctness issue, part 4: after an expired registration, a new one
    from the web form is pending; the refusal at connect names that one, and
    the admin page shows an approval past its expiry as expired."""
    gw = web_gateway()
    gw.ctl("device", "add", "127.0.0.5", "--name", "old", "--owner", "lab@example.edu",
           "--expires", day(-1), "--force")
    a = WebClient(gw.web_url)
    a.login(ADMIN_USER, ADMIN_PASSWORD)
    row = re.search(r'<tr id="device-1">.*?</tr>', a.get("/admin")[2], re.S).group(0)
    assert 'class="status-expired"' in row, row
    lines = a.get("/admin/export.csv")[2].strip().split("\r\n")
    assert ',"expired",' in lines[1], lines[1]
    c = WebClient(gw.web_url, source="127.0.0.5")
    page = c.get("/register")[2]
    assert c.post("/register", dict(COPIER, csrf=WebClient.csrf(page)))[0] == 200
    refusals = []

    def refused_naming_2():  # at once from SQLite, within a second from PostgreSQL
        with pytest.raises(smtplib.SMTPConnectError) as e:
            send_plain(gw, "127.0.0.5")
        refusals.append((e.value.smtp_code, e.value.smtp_error))
        return b"(#2) is waiting for approval" in e.value.smtp_error
    wait_for(refused_naming_2, 2, what=f"the refusal naming #2 ({refusals[-1:]})")
    assert all(code == 554 for code, _ in refusals), refusals


def test_security_15_invisible_characters_in_names_are_refused(web_gateway):
    """A device name with a right-to-left override or zero-width characters
    could pose as another on the admin page: refused on the form."""
    gw = web_gateway()
    c = WebClient(gw.web_url, source="127.0.0.5")
    for name in ("Copier \u202ereifpoC", "Cop\u200bier", "\ufeffCopier"):
        page = c.get("/register")[2]
        status, _, page = c.post("/register", dict(COPIER, name=name,
                                                   csrf=WebClient.csrf(page)))
        assert status == 422 and 'id="name-error"' in page and "invisible" in page, name
    assert devices(gw) == []


def test_security_9_slow_requests_do_not_take_the_pages_down(web_gateway):
    """128 half-sent requests (16 from each of 8 addresses) made a real
    request time out. Now one address holds at most 8 connections, and a
    request that is not done within 10 s is cut off."""
    import socket
    gw = web_gateway(clients="127.0.0.0/8")
    host, port = gw.web["address"].rsplit(":", 1)
    slow = []
    for a in range(8):
        for _ in range(16):
            s = socket.create_connection((host, int(port)), timeout=5,
                                         source_address=(f"127.0.1.{a + 10}", 0))
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # never finished
            slow.append(s)
    t0 = time.time()
    status, _, page = WebClient(gw.web_url).get("/")
    assert status == 200 and time.time() - t0 < 3
    # the ninth and later connections of one address were closed at once
    time.sleep(0.5)
    readable, _, _ = select.select(slow, [], [], 0)

    def is_closed(s):
        try:
            return s.recv(100, socket.MSG_PEEK) == b""
        except ConnectionResetError:
            return True
    closed_at_once = sum(1 for s in readable if is_closed(s))
    assert closed_at_once >= 8 * 8, closed_at_once
    # and the rest hit the deadline, however often they trickle a byte
    for _ in range(6):
        time.sleep(2)
        for s in slow:
            try:
                s.sendall(b"x")
            except OSError:
                pass

    def still_open():
        n = 0
        for s in slow:
            s.settimeout(0.05)
            try:
                n += s.recv(100) != b""
            except socket.timeout:
                n += 1
            except OSError:
                pass
        return n
    assert still_open() == 0
    assert "event=web-deadline" in gw.log()
    for s in slow:
        s.close()


def test_security_10_https_pages_speak_tls12_and_13_only(web_gateway, certs):
    gw = web_gateway(certificate=f"{certs}/ecdsa.pem", key=f"{certs}/ecdsa.key")
    addr = gw.web["address"]

    def s_client(*opts):
        return subprocess.run(["openssl", "s_client", "-connect", addr, *opts],
                              input=b"", capture_output=True, timeout=20)
    for old in (["-tls1", "-cipher", "ALL:@SECLEVEL=0"], ["-tls1_1", "-cipher", "ALL:@SECLEVEL=0"],
                ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-SHA"]):
        r = s_client(*old)
        assert r.returncode != 0 and b"Cipher is (NONE)" in r.stdout + r.stderr, old
    for good in (["-tls1_2"], ["-tls1_3"]):
        r = s_client(*good)
        assert r.returncode == 0 and b"Cipher is (NONE)" not in r.stdout, good
        assert (b"TLSv1.3" if good == ["-tls1_3"] else b"TLSv1.2") in r.stdout


def test_security_6_login_limit_cannot_be_reset_from_another_address(web_gateway):
    """Failed logins were counted in 512 hash slots; a failure from a
    colliding address (127.0.0.50 and 127.0.1.22) reset the count: 16 wrong
    passwords, every fourth from the second address, never got 429. Now each
    address keeps its count, a user name has one too, and admin_clients
    defaults to this host only."""
    gw = web_gateway(clients="127.0.0.0/8", admin_clients="127.0.0.0/8")
    a, b = WebClient(gw.web_url, source="127.0.0.50"), WebClient(gw.web_url, source="127.0.1.22")
    codes = [(b if i % 4 == 3 else a).login(ADMIN_USER, f"guess {i}")[0] for i in range(16)]
    from_a = [c for i, c in enumerate(codes) if i % 4 != 3]
    assert from_a[:5] == [403] * 5 and set(from_a[5:]) == {429}, codes
    # a user name is limited from any address
    for i in range(12):
        WebClient(gw.web_url, source=f"127.0.2.{i + 1}").login("bob", f"guess {i}")
    status, _, page = WebClient(gw.web_url, source="127.0.3.1").login("bob", "another")
    assert status == 429 and "for this user" in page
    assert WebClient(gw.web_url).login(ADMIN_USER, ADMIN_PASSWORD)[0] == 303


def test_security_6_admin_pages_default_to_this_host(make_gateway, admins_file):
    gw = make_gateway(listeners=LISTENERS, registry={},
                      web={"clients": "127.0.0.0/8", "admins": admins_file}).start()
    assert 'name="password"' in WebClient(gw.web_url, source="127.0.0.1").get("/admin")[2]
    assert WebClient(gw.web_url, source="127.0.0.7").get("/")[0] == 200
    status, _, page = WebClient(gw.web_url, source="127.0.0.7").get("/admin")
    assert status == 403 and "cannot be reached from your address" in page


def test_security_13_check_shows_others_only_codes(web_gateway):
    """From 127.0.0.77, /check?address=127.0.0.5 showed a refused recipient
    address, the revocation reason and the device name."""
    gw = web_gateway(clients="127.0.0.0/8")
    gw.ctl("device", "add", "127.0.0.5", "--name", "Secret Lab Copier", "--owner",
           "lab@example.edu")
    wait_for(lambda: "220" in subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{gw.port('mailout-unsecure')}", "--local-interface",
         "127.0.0.5", "--quit-after", "CONNECT"], capture_output=True, text=True).stdout,
        what="device admitted")
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send_plain(gw, "127.0.0.5", rcpt="private.person@gmail.com")
    gw.ctl("device", "revoke", "1", "--why", "found in the dumpster")
    wait_for(lambda: "554" in subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{gw.port('mailout-unsecure')}", "--local-interface",
         "127.0.0.5", "--quit-after", "CONNECT"], capture_output=True, text=True).stdout,
        what="device refused")
    stranger = WebClient(gw.web_url, source="127.0.0.77")
    page = wait_for(lambda: (lambda p: p.count("<tr><td ") >= 3 and p)(
        stranger.get("/check?address=127.0.0.5")[2]), timeout=15, what="sessions recorded")
    for secret in ("private.person", "gmail.com", "dumpster", "Secret Lab Copier", "revoked"):
        assert secret not in page, secret
    assert "refused: 550 5.7.1" in page and "refused at connect" in page
    # the device itself, and an admin, still see everything
    own = WebClient(gw.web_url, source="127.0.0.5").get("/check")[2]
    assert "private.person@gmail.com" in own and "dumpster" in own and "Secret Lab Copier" in own
    admin = WebClient(gw.web_url)
    admin.login(ADMIN_USER, ADMIN_PASSWORD)
    assert "dumpster" in admin.get("/check?address=127.0.0.5")[2]
