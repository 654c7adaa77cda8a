"""A small SMTP server for the tests (Python standard library only): loopback, STARTTLS or
implicit TLS with a throwaway certificate (openssl), AUTH PLAIN and LOGIN, and scripted replies
(a 4xx or 5xx at a given step, once).  Every accepted message is kept with its envelope, the
bytes after dot-unstuffing, whether TLS was on and who authenticated.

    srv = SMTPServer(directory, user="u", password="p")   # STARTTLS offered, AUTH required
    srv.start()
    srv.script("RCPT", "451 4.3.0 try later")            # the next RCPT answers that, once
    srv.messages  # [{"mail_from", "rcpts", "data", "tls", "auth"}]
    srv.stop()
"""

import base64
import os
import socket
import ssl
import subprocess
import threading


def make_certificate(directory):
    """A self-signed certificate for 127.0.0.1 and localhost: (cert path, key path)."""
    cert = os.path.join(directory, "smtp-cert.pem")
    key = os.path.join(directory, "smtp-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-keyout", key, "-out", cert,
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    os.chmod(cert, 0o644)
    return cert, key


class SMTPServer:
    def __init__(self, directory, user=None, password=None, starttls=True, implicit_tls=False):
        self.dir = directory
        self.user, self.password = user, password
        self.starttls = starttls
        self.implicit_tls = implicit_tls
        self.cert, self.key = make_certificate(directory)
        self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ctx.load_cert_chain(self.cert, self.key)
        self.messages = []
        self.transcripts = []
        self._script = {}
        self._lock = threading.Lock()
        self._sock = None
        self._threads = []
        self.port = None

    # ---- control ------------------------------------------------------------------------
    def script(self, step, reply):
        """The next command of this step (CONNECT, EHLO, MAIL, RCPT, DATA, END - after the
        message's final dot) answers `reply` instead, once."""
        with self._lock:
            self._script.setdefault(step, []).append(reply)

    def clear(self):
        with self._lock:
            self.messages.clear()
            self.transcripts.clear()
            self._script.clear()

    def start(self):
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        return self.port

    def stop(self):
        if self._sock:
            self._sock.close()
            self._sock = None

    def _scripted(self, step):
        with self._lock:
            q = self._script.get(step)
            return q.pop(0) if q else None

    # ---- the protocol -------------------------------------------------------------------
    def _accept(self):
        while self._sock:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn):
        log = []
        try:
            conn.settimeout(30)
            if self.implicit_tls:
                conn = self.ctx.wrap_socket(conn, server_side=True)
            self._serve(conn, log, self.implicit_tls)
        except (OSError, ssl.SSLError) as e:
            log.append("! %s" % e)
        finally:
            with self._lock:
                self.transcripts.append(log)
            try:
                conn.close()
            except OSError:
                pass

    def _serve(self, conn, log, tls):
        f = conn.makefile("rb")

        def send(line):
            log.append("S: " + line)
            conn.sendall(line.encode() + b"\r\n")

        def readline():
            line = f.readline(65536)
            if not line:
                raise OSError("connection closed")
            return line.rstrip(b"\r\n").decode("utf-8", "replace")

        r = self._scripted("CONNECT")
        if r:
            send(r)
            return
        send("220 localhost test ESMTP")
        auth = None
        mail_from, rcpts = None, []
        while True:
            line = readline()
            log.append("C: " + (line if not line.upper().startswith("AUTH") else "AUTH ..."))
            verb = line.split(" ", 1)[0].upper()
            arg = line[len(verb):].strip()
            if verb in ("EHLO", "HELO"):
                r = self._scripted("EHLO")
                if r:
                    send(r)
                    continue
                caps = ["localhost", "8BITMIME", "SIZE 52428800"]
                if self.starttls and not tls:
                    caps.append("STARTTLS")
                if self.user and (tls or not self.starttls):
                    caps.append("AUTH PLAIN LOGIN")
                for c in caps[:-1]:
                    send("250-" + c)
                send("250 " + caps[-1])
            elif verb == "STARTTLS" and self.starttls and not tls:
                send("220 2.0.0 go ahead")
                conn = self.ctx.wrap_socket(conn, server_side=True)
                f = conn.makefile("rb")
                tls = True
                mail_from, rcpts, auth = None, [], None
            elif verb == "AUTH" and self.user:
                parts = arg.split()
                mech = parts[0].upper() if parts else ""
                if mech == "PLAIN":
                    blob = parts[1] if len(parts) > 1 else None
                    if blob is None:
                        send("334 ")
                        blob = readline()
                    try:
                        _, u, pw = base64.b64decode(blob).decode().split("\0")
                    except Exception:
                        u = pw = None
                elif mech == "LOGIN":
                    if len(parts) > 1:
                        u = base64.b64decode(parts[1]).decode()
                    else:
                        send("334 " + base64.b64encode(b"Username:").decode())
                        u = base64.b64decode(readline()).decode()
                    send("334 " + base64.b64encode(b"Password:").decode())
                    pw = base64.b64decode(readline()).decode()
                else:
                    send("504 5.5.4 unknown mechanism")
                    continue
                if u == self.user and pw == self.password:
                    auth = u
                    send("235 2.7.0 authenticated")
                else:
                    send("535 5.7.8 authentication failed")
            elif verb == "MAIL":
                if self.user and not auth:
                    send("530 5.7.0 authentication required")
                    continue
                r = self._scripted("MAIL")
                if r:
                    send(r)
                    continue
                mail_from = arg.split(":", 1)[1].strip() if ":" in arg else arg
                mail_from = mail_from.split(" ")[0].strip("<>")
                rcpts = []
                send("250 2.1.0 ok")
            elif verb == "RCPT":
                r = self._scripted("RCPT")
                if r:
                    send(r)
                    continue
                rcpts.append((arg.split(":", 1)[1] if ":" in arg else arg).strip().strip("<>"))
                send("250 2.1.5 ok")
            elif verb == "DATA":
                r = self._scripted("DATA")
                if r:
                    send(r)
                    continue
                if mail_from is None or not rcpts:
                    send("503 5.5.1 no valid recipients")
                    continue
                send("354 end with <CRLF>.<CRLF>")
                data = bytearray()
                while True:
                    raw = f.readline(1 << 20)
                    if not raw:
                        raise OSError("connection closed in DATA")
                    if raw == b".\r\n":
                        break
                    if raw.startswith(b"."):
                        raw = raw[1:]
                    data += raw
                r = self._scripted("END")
                if r:
                    send(r)
                else:
                    with self._lock:
                        self.messages.append({"mail_from": mail_from, "rcpts": list(rcpts),
                                              "data": bytes(data), "tls": tls, "auth": auth})
                    send("250 2.0.0 queued")
                mail_from, rcpts = None, []
            elif verb == "RSET":
                mail_from, rcpts = None, []
                send("250 2.0.0 ok")
            elif verb == "NOOP":
                send("250 2.0.0 ok")
            elif verb == "QUIT":
                send("221 2.0.0 bye")
                return
            else:
                send("502 5.5.2 not implemented")
