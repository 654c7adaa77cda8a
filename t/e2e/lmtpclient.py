"""A small LMTP client (RFC 2033) for the end-to-end tests and the benchmark: raw socket, so
that the tests see every reply line and choose when each byte is written (pipelining)."""

import socket


class LMTPError(AssertionError):
    pass


class LMTP:
    def __init__(self, host, port, timeout=60):
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.f = self.sock.makefile("rb")

    @classmethod
    def of(cls, instance, **kw):
        host, port = instance.env()["ZX_LMTP"].rsplit(":", 1)
        return cls(host, port, **kw)

    def close(self):
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def reply(self):
        """One reply: (code, text of its last line) - a multi-line reply's lines joined."""
        lines = []
        while True:
            line = self.f.readline()
            if not line:
                raise LMTPError("connection closed; got %r" % lines)
            line = line.decode("utf-8", "replace").rstrip("\r\n")
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), "\n".join(l[4:] for l in lines)

    def replies(self, n):
        return [self.reply() for _ in range(n)]

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def greet_lhlo(self, name="mta.test"):
        g = self.reply()
        assert g[0] == 220, g
        return self.cmd("LHLO " + name)


def stuff(message):
    """The message as DATA sends it: dot-stuffed, CRLF line ends, the final dot line."""
    if isinstance(message, str):
        message = message.encode()
    lines = message.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines)
    return out + b".\r\n"


def transaction(sender, rcpts, message):
    """The bytes of one whole transaction (MAIL, RCPTs, DATA, the message)."""
    out = ("MAIL FROM:<%s> BODY=8BITMIME\r\n" % sender).encode()
    out += b"".join(("RCPT TO:<%s>\r\n" % r).encode() for r in rcpts)
    return out + b"DATA\r\n" + stuff(message)
