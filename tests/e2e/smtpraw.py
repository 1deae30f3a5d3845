"""A raw SMTP client for protocol tests: exact bytes out, exact replies in."""
import socket
import ssl


def client_context(minimum=None, maximum=None, ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if ciphers:
        ctx.set_ciphers(ciphers)
    if minimum:
        ctx.minimum_version = minimum
    if maximum:
        ctx.maximum_version = maximum
    return ctx


class Raw:
    def __init__(self, port, host="127.0.0.1", source=None, implicit=False, timeout=10,
                 greet=True, ctx=None, suppress_ragged_eofs=True):
        src = (source, 0) if source else None
        self.sock = socket.create_connection((host, port), timeout=timeout, source_address=src)
        self.buf = b""
        if implicit:
            self.sock = (ctx or client_context()).wrap_socket(
                self.sock, suppress_ragged_eofs=suppress_ragged_eofs)
        self.greeting = self.reply() if greet else None

    def send(self, data: bytes):
        self.sock.sendall(data)

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed; pending=%r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def reply(self):
        """(code, [lines]) of one possibly multi-line reply."""
        lines = []
        while True:
            line = self._line()
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), lines

    def cmd(self, line: str):
        self.send(line.encode() + b"\r\n")
        return self.reply()

    def starttls(self, ctx=None, suppress_ragged_eofs=True):
        code, lines = self.cmd("STARTTLS")
        assert code == 220, lines
        self.sock = (ctx or client_context()).wrap_socket(
            self.sock, suppress_ragged_eofs=suppress_ragged_eofs)
        return self.sock

    def closed(self, timeout=5):
        """True if the server closes the connection (reads until EOF)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionError, ssl.SSLError):
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def tls_session(port, helo="client.test", **kw):
    """Connected, STARTTLS done, EHLO sent again: ready for MAIL."""
    c = Raw(port, **kw)
    c.cmd("EHLO " + helo)
    c.starttls()
    c.cmd("EHLO " + helo)
    return c
