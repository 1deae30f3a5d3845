"""A small HTTP client for the web-page tests: a chosen source address, a
cookie jar, form posts, no redirects followed (tests look at them)."""
import http.client
import re
import ssl
import urllib.parse


class WebClient:
    def __init__(self, base, source="127.0.0.1", headers=None):
        u = urllib.parse.urlsplit(base)
        self.https = u.scheme == "https"
        self.host, self.port = u.hostname, u.port
        self.source = source
        self.cookies = {}
        self.headers = headers or {}
        self.last_set_cookie = []

    def _conn(self):
        if self.https:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return http.client.HTTPSConnection(self.host, self.port, timeout=10,
                                               source_address=(self.source, 0), context=ctx)
        return http.client.HTTPConnection(self.host, self.port, timeout=10,
                                          source_address=(self.source, 0))

    def request(self, method, path, body=None, headers=None):
        h = dict(self.headers)
        h.update(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        c = self._conn()
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        text = r.read().decode("utf-8", "replace")
        self.last_set_cookie = r.headers.get_all("Set-Cookie") or []
        for sc in self.last_set_cookie:
            name, _, rest = sc.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in sc:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        c.close()
        return r.status, dict(r.headers), text

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def post(self, path, fields, headers=None):
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        h.update(headers or {})
        return self.request("POST", path, urllib.parse.urlencode(fields), h)

    @staticmethod
    def csrf(page):
        m = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
        assert m, page[:2000]
        return m.group(1)

    def login(self, user, password):
        _, _, page = self.get("/admin")
        return self.post("/admin/login",
                         {"csrf": self.csrf(page), "user": user, "password": password})
