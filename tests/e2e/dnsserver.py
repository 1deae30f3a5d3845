"""A tiny authoritative DNS responder over UDP for the MX routing tests:
A, AAAA and MX records from a dict; NXDOMAIN for unknown names."""
import ipaddress
import socket
import struct
import threading

TYPES = {"A": 1, "MX": 15, "AAAA": 28}


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


class DNSServer:
    def __init__(self, records):
        """records: {"name": [("MX", (10, "mx.host")), ("A", "127.0.0.1"), ...]}"""
        self.records = {k.lower().rstrip("."): v for k, v in records.items()}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.queries = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def rdata(self, rtype, value):
        if rtype == "A":
            return ipaddress.IPv4Address(value).packed
        if rtype == "AAAA":
            return ipaddress.IPv6Address(value).packed
        pref, host = value
        return struct.pack("!H", pref) + encode_name(host)

    def answer(self, data):
        qid, flags, qd = struct.unpack("!HHH", data[:6])
        pos, labels = 12, []
        while data[pos]:
            n = data[pos]
            labels.append(data[pos + 1:pos + 1 + n].decode())
            pos += n + 1
        qtype, qclass = struct.unpack("!HH", data[pos + 1:pos + 5])
        question = data[12:pos + 5]
        name = ".".join(labels).lower()
        self.queries.append((name, qtype))
        answers = []
        if name in self.records:
            rcode = 0
            for rtype, value in self.records[name]:
                if TYPES[rtype] == qtype:
                    rd = self.rdata(rtype, value)
                    answers.append(struct.pack("!HHHIH", 0xC00C, qtype, 1, 60, len(rd)) + rd)
        else:
            rcode = 3
        header = struct.pack("!HHHHHH", qid, 0x8180 | (flags & 0x0100) | rcode, 1,
                             len(answers), 0, 0)
        return header + question + b"".join(answers)

    def serve(self):
        while True:
            try:
                data, addr = self.sock.recvfrom(4096)
                self.sock.sendto(self.answer(data), addr)
            except OSError:
                return
            except Exception:  # noqa: BLE001 - a malformed query gets no answer
                continue

    def close(self):
        self.sock.close()
