"""ValidateCert ([MS-ASCMD] 2.2.1.22) with the independent client, and OPTIONS listing exactly the
commands that have a handler.

A private PKI is made here with the openssl command line: a root CA the server is told to trust
(ZxMobileValidateCertCAFile, in a conf.d file of the instance), an intermediate CA, leaf
certificates (valid, expired, revoked, with an unreachable or a silent CRL server), a revoked
second intermediate, and a root the server does not trust.  The CRLs are served by a tiny HTTP
server of the test, which counts its downloads; two leaves name only an OCSP responder (no CRL
distribution point), answered by `openssl ocsp` from the intermediate's index.

Per-certificate Status values, [MS-ASCMD] 2.2.3.177.18: 1 success, 4 untrusted source,
5 malformed chain/certificate, 7 expired, 13 revoked, 14 revocation server unreachable,
15 a certificate of the chain revoked; top-level 1 processed, 2 protocol error.
"""

import base64
import http.server
import os
import socket
import subprocess
import tempfile
import textwrap
import threading
import time

import pytest

from mailtools import VERSIONS, account, client_for  # noqa: F401
import zxinstance

OK, PROTOCOL_ERROR, UNTRUSTED, BAD_CHAIN, EXPIRED = 1, 2, 4, 5, 7
REVOKED, REVOCATION_OFFLINE, CHAIN_REVOKED = 13, 14, 15
ALL_COMMANDS = ("Sync,SendMail,SmartForward,SmartReply,GetAttachment,FolderSync,FolderCreate,"
                "FolderDelete,FolderUpdate,MoveItems,GetItemEstimate,MeetingResponse,Search,"
                "Settings,Ping,ItemOperations,Provision,ResolveRecipients,ValidateCert,Find"
                ).split(",")


# ---- the CRL server ---------------------------------------------------------------------------

class CrlServer:
    """Serves self.files {path: bytes} on 127.0.0.1; self.hits counts GETs per path."""

    def __init__(self):
        self.files, self.hits = {}, {}
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits[self.path] = outer.hits.get(self.path, 0) + 1
                body = outer.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/pkix-crl")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---- the PKI (openssl command line) --------------------------------------------------------------

def openssl(*args, cwd=None):
    p = subprocess.run(["openssl"] + list(args), cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 0, (args, p.stderr.decode())
    return p.stdout


class CA:
    """A CA directory for `openssl ca` (signing, revoking, CRLs)."""

    def __init__(self, base, name, parent=None, crl_url=None, cn=None):
        self.dir = os.path.join(base, name)
        os.makedirs(os.path.join(self.dir, "new"))
        open(os.path.join(self.dir, "index.txt"), "w").close()
        with open(os.path.join(self.dir, "serial"), "w") as f:
            f.write("%04X\n" % (0x1000 + len(os.listdir(base)) * 0x100))
        with open(os.path.join(self.dir, "crlnumber"), "w") as f:
            f.write("01\n")
        self.conf = os.path.join(self.dir, "ca.cnf")
        with open(self.conf, "w") as f:
            f.write(textwrap.dedent("""\
                [ ca ]
                default_ca = this
                [ this ]
                dir = {d}
                database = {d}/index.txt
                new_certs_dir = {d}/new
                serial = {d}/serial
                crlnumber = {d}/crlnumber
                certificate = {d}/cert.pem
                private_key = {d}/key.pem
                default_md = sha256
                default_days = 365
                default_crl_days = 2
                policy = anything
                unique_subject = no
                copy_extensions = none
                [ anything ]
                commonName = supplied
                """).format(d=self.dir))
        self.key = os.path.join(self.dir, "key.pem")
        self.cert = os.path.join(self.dir, "cert.pem")
        subject = "/CN=" + (cn or "ZX test " + name)
        if parent is None:
            openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", self.key, "-out", self.cert, "-subj", subject,
                    "-days", "3650", "-addext", "basicConstraints=critical,CA:true",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        else:
            parent.issue(self.key, self.cert, subject, ca=True, crl_url=crl_url)

    def issue(self, key, cert, subject, ca=False, crl_url=None, start=None, end=None,
              ocsp_url=None):
        csr = cert + ".csr"
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", key, "-out", csr, "-subj", subject)
        ext = cert + ".ext"
        with open(ext, "w") as f:
            f.write("[ ext ]\n")
            if ca:
                f.write("basicConstraints = critical,CA:true\n"
                        "keyUsage = critical,keyCertSign,cRLSign\n")
            else:
                f.write("basicConstraints = critical,CA:false\n"
                        "keyUsage = critical,digitalSignature,keyEncipherment\n"
                        "extendedKeyUsage = emailProtection\n")
            if crl_url:
                f.write("crlDistributionPoints = URI:%s\n" % crl_url)
            if ocsp_url:
                f.write("authorityInfoAccess = OCSP;URI:%s\n" % ocsp_url)
        args = ["ca", "-config", self.conf, "-batch", "-notext", "-in", csr, "-out", cert,
                "-extfile", ext, "-extensions", "ext"]
        if start:
            args += ["-startdate", start]
        if end:
            args += ["-enddate", end]
        openssl(*args)

    def revoke(self, cert):
        openssl("ca", "-config", self.conf, "-revoke", cert)

    def crl_der(self):
        pem = os.path.join(self.dir, "crl.pem")
        openssl("ca", "-config", self.conf, "-gencrl", "-out", pem)
        return openssl("crl", "-in", pem, "-outform", "DER")


def b64_der(pem_path):
    """The base64 of a PEM certificate's DER, as a client sends a Certificate."""
    der = openssl("x509", "-in", pem_path, "-outform", "DER")
    return base64.b64encode(der).decode()


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def pki(instance):
    """The PKI, its CRL server, and the instance trusting its root (conf.d + graceful restart);
    undone afterwards."""
    base = tempfile.mkdtemp(prefix="zxcert-")
    os.chmod(base, 0o755)       # the httpd children (www-data) read the CA file
    crls = CrlServer()
    silent = socket.socket()    # accepts connections, never answers: the download times out
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    root = CA(base, "root")
    inter = CA(base, "inter", root, crls.url("/root.crl"))
    inter2 = CA(base, "inter2", root, crls.url("/root.crl"))
    untrusted_root = CA(base, "stranger")
    certs = {}

    def leaf(name, ca, crl_url=None, **kw):
        path = os.path.join(base, name + ".pem")
        ca.issue(os.path.join(base, name + ".key"), path, "/CN=%s@example.com" % name,
                 crl_url=crl_url, **kw)
        certs[name] = b64_der(path)
        return path

    leaf("good", inter, crls.url("/inter.crl"))
    leaf("nocrl", inter)
    leaf("expired", inter, crls.url("/inter.crl"), start="20200101000000Z", end="20210101000000Z")
    inter.revoke(leaf("revoked", inter, crls.url("/inter.crl")))
    inter.revoke(leaf("revoked_b", inter, crls.url("/inter-b.crl")))   # asked without CheckCRL
    leaf("down", inter, "http://127.0.0.1:%d/inter.crl" % closed_port())
    leaf("silent", inter, "http://127.0.0.1:%d/inter.crl" % silent.getsockname()[1])
    leaf("under_revoked_ca", inter2, crls.url("/inter2.crl"))
    root.revoke(inter2.cert)
    leaf("stranger", untrusted_root)
    ocsp_port = closed_port()   # the responder, started once the index is complete
    leaf("ocsp_good", inter, ocsp_url="http://127.0.0.1:%d/" % ocsp_port)
    inter.revoke(leaf("ocsp_revoked", inter, ocsp_url="http://127.0.0.1:%d/" % ocsp_port))
    for i in range(6):          # each its own CRL URL: the download budget of one request
        leaf("budget%d" % i, inter, crls.url("/budget%d.crl" % i))
    certs["inter"], certs["inter2"] = b64_der(inter.cert), b64_der(inter2.cert)
    crls.files["/root.crl"] = root.crl_der()
    crls.files["/inter.crl"] = crls.files["/inter-b.crl"] = inter.crl_der()
    crls.files["/inter2.crl"] = inter2.crl_der()
    for i in range(6):
        crls.files["/budget%d.crl" % i] = crls.files["/inter.crl"]

    # `openssl ocsp` signing as the intermediate; "ACCEPT" on its output: it listens
    ocsp_log = open(os.path.join(base, "ocsp.log"), "w+")
    ocsp = subprocess.Popen(["openssl", "ocsp", "-index", os.path.join(inter.dir, "index.txt"),
                             "-CA", inter.cert, "-rsigner", inter.cert, "-rkey", inter.key,
                             "-port", str(ocsp_port), "-nmin", "5", "-ignore_err"],
                            stdout=ocsp_log, stderr=subprocess.STDOUT)
    for _ in range(100):
        with open(ocsp_log.name) as f:
            if "ACCEPT" in f.read():
                break
        assert ocsp.poll() is None
        time.sleep(0.1)
    conf = os.path.join(instance.extra_dir, "validatecert.conf")
    with open(conf, "w") as f:
        f.write('ZxMobileValidateCertCAFile "%s"\n' % root.cert)
    instance.reload()
    try:
        yield {"certs": certs, "crls": crls}
    finally:
        os.unlink(conf)
        instance.reload()
        crls.close()
        silent.close()
        ocsp.terminate()
        ocsp.wait()
        ocsp_log.close()
        subprocess.run(["rm", "-rf", base])


def validate(c, certs, chain=(), check_crl=None):
    """POST ValidateCert; returns (top-level Status, [per-certificate Status])."""
    body = '<ValidateCert xmlns="ValidateCert:">'
    if chain:
        body += "<CertificateChain>%s</CertificateChain>" % "".join(
            "<Certificate>%s</Certificate>" % x for x in chain)
    body += "<Certificates>%s</Certificates>" % "".join(
        "<Certificate>%s</Certificate>" % x for x in certs)
    if check_crl is not None:
        body += "<CheckCRL>%d</CheckCRL>" % check_crl
    body += "</ValidateCert>"
    r = c.post("ValidateCert", body)
    assert r.status == 200, r
    doc = r.wbxml
    assert doc is not None and doc.name == "ValidateCert", doc
    return int(doc.findtext("Status")), [int(x.findtext("Status"))
                                          for x in doc.findall("Certificate")]


# ---- the statuses ------------------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_valid_chain(instance, pki, account, version):
    c = client_for(instance, account, version)
    certs = pki["certs"]
    assert validate(c, [certs["good"]], [certs["inter"]]) == (OK, [OK])
    assert validate(c, [certs["good"]], [certs["inter"]], check_crl=0) == (OK, [OK])
    # with the CRLs: the leaf's (intermediate's CRL) and the intermediate's (root's CRL)
    assert validate(c, [certs["good"]], [certs["inter"]], check_crl=1) == (OK, [OK])
    assert pki["crls"].hits.get("/inter.crl") and pki["crls"].hits.get("/root.crl")


@pytest.mark.parametrize("version", VERSIONS)
def test_expired_and_untrusted(instance, pki, account, version):
    c = client_for(instance, account, version)
    certs = pki["certs"]
    assert validate(c, [certs["expired"]], [certs["inter"]]) == (OK, [EXPIRED])
    # a root the server does not trust; a leaf whose issuer it is not given
    assert validate(c, [certs["stranger"]]) == (OK, [UNTRUSTED])
    assert validate(c, [certs["good"]]) == (OK, [UNTRUSTED])
    # several certificates: one status each, in the request's order
    assert validate(c, [certs["good"], certs["stranger"], certs["expired"]],
                    [certs["inter"]]) == (OK, [OK, UNTRUSTED, EXPIRED])


@pytest.mark.parametrize("version", VERSIONS)
def test_revoked(instance, pki, account, version):
    c = client_for(instance, account, version)
    certs = pki["certs"]
    assert validate(c, [certs["revoked"]], [certs["inter"]], check_crl=1) == (OK, [REVOKED])
    # without CheckCRL no CRL is downloaded (only one the process holds would be read: see
    # test_cert), and the unverifiable status is ignored
    assert validate(c, [certs["revoked_b"]], [certs["inter"]], check_crl=0) == (OK, [OK])
    assert validate(c, [certs["revoked_b"]], [certs["inter"]]) == (OK, [OK])
    assert "/inter-b.crl" not in pki["crls"].hits
    # an intermediate the root revoked
    assert validate(c, [certs["under_revoked_ca"]], [certs["inter2"]], check_crl=1) == \
        (OK, [CHAIN_REVOKED])


def test_ocsp(instance, pki, account):
    """Leaves with an OCSP responder and no CRL distribution point: the responder decides (without
    it the revocation could not be determined: 16); revoked is 13, as by a CRL."""
    c = client_for(instance, account, "14.1")
    certs = pki["certs"]
    assert validate(c, [certs["ocsp_good"]], [certs["inter"]], check_crl=1) == (OK, [OK])
    assert validate(c, [certs["ocsp_revoked"]], [certs["inter"]], check_crl=1) == (OK, [REVOKED])
    assert validate(c, [certs["ocsp_good"], certs["ocsp_revoked"]], [certs["inter"]],
                    check_crl=1) == (OK, [OK, REVOKED])
    # without CheckCRL nobody is asked: the revoked one is not held, the unverifiable ignored
    assert validate(c, [certs["ocsp_revoked"]], [certs["inter"]], check_crl=0) == (OK, [OK])


@pytest.mark.parametrize("version", VERSIONS)
def test_crl_server_down(instance, pki, account, version):
    c = client_for(instance, account, version)
    certs = pki["certs"]
    start = time.monotonic()
    assert validate(c, [certs["down"]], [certs["inter"]], check_crl=1) == \
        (OK, [REVOCATION_OFFLINE])
    assert time.monotonic() - start < 2      # a refused connection fails at once
    assert validate(c, [certs["down"]], [certs["inter"]], check_crl=0) == (OK, [OK])


def test_crl_server_silent_times_out(instance, pki, account):
    c = client_for(instance, account, "16.1")
    certs = pki["certs"]
    start = time.monotonic()
    assert validate(c, [certs["silent"]], [certs["inter"]], check_crl=1) == \
        (OK, [REVOCATION_OFFLINE])
    # one download timeout (3 s), not the client's patience
    assert time.monotonic() - start < 7


def test_crl_downloads_per_request_are_bounded(instance, pki, account):
    c = client_for(instance, account, "14.1")
    certs, crls = pki["certs"], pki["crls"]
    top, statuses = validate(c, [certs["budget%d" % i] for i in range(6)], [certs["inter"]],
                             check_crl=1)
    assert top == OK and len(statuses) == 6
    fetched = sum(crls.hits.get("/budget%d.crl" % i, 0) for i in range(6))
    assert 1 <= fetched <= 4        # ZX_CERT_MAX_FETCHES, the root's CRL included
    assert statuses.count(OK) == fetched
    assert statuses.count(REVOCATION_OFFLINE) == 6 - fetched
    # the CRLs fetched are kept by that process a while: asked again, at most the missing ones
    # are fetched (another httpd child may answer: it has its own cache)
    validate(c, [certs["budget0"]], [certs["inter"]], check_crl=1)
    assert crls.hits.get("/budget0.crl", 0) <= 2


@pytest.mark.parametrize("version", VERSIONS)
def test_malformed_certificates(instance, pki, account, version):
    c = client_for(instance, account, version)
    certs = pki["certs"]
    # not base64, base64 of no certificate: status 5 for that one, the others validated
    assert validate(c, ["%%%not-base64", certs["good"], "eA=="], [certs["inter"]]) == \
        (OK, [BAD_CHAIN, OK, BAD_CHAIN])
    # a chain element that is not a certificate: the chain is malformed for every certificate
    assert validate(c, [certs["good"]], ["AAAA"]) == (OK, [BAD_CHAIN])
    # line breaks inside the base64 are allowed
    wrapped = "\n".join(certs["good"][i:i + 64] for i in range(0, len(certs["good"]), 64))
    assert validate(c, [wrapped], [certs["inter"]]) == (OK, [OK])


@pytest.mark.parametrize("version", VERSIONS)
def test_request_limits(instance, pki, account, error_log, version):
    c = client_for(instance, account, version)
    certs = pki["certs"]
    # more certificates than a request may carry (16): refused whole, logged
    assert validate(c, [certs["good"]] * 17, [certs["inter"]]) == (PROTOCOL_ERROR, [])
    assert error_log.contains(r"ZX02602: ValidateCert refused: more than 16 Certificate")
    assert validate(c, [certs["good"]] * 16, [certs["inter"]]) == (OK, [OK] * 16)
    # a certificate over 32 KiB of base64
    assert validate(c, ["A" * (32 * 1024 + 4)]) == (PROTOCOL_ERROR, [])
    # no certificate, a CheckCRL that is not 0 or 1
    r = c.post("ValidateCert", '<ValidateCert xmlns="ValidateCert:"><Certificates/></ValidateCert>')
    assert int(r.wbxml.findtext("Status")) == PROTOCOL_ERROR
    assert validate(c, [certs["good"]], check_crl=2) == (PROTOCOL_ERROR, [])


# ---- OPTIONS: exactly the commands with a handler ----------------------------------------------

@pytest.mark.parametrize("version", ["12.1", "14.1", "16.1"])
def test_options_lists_exactly_the_handled_commands(instance, account, version):
    """Every command OPTIONS lists is answered by a handler (ValidateCert, now); every command of
    the protocol it leaves out is answered "not implemented" (137, HTTP 501 before 14.0) - so
    the list and the handler table agree, whichever handlers exist."""
    c = client_for(instance, account, version)
    status, headers = c.options()
    assert status == 200
    listed = headers["MS-ASProtocolCommands"].split(",")
    assert listed == [x for x in ALL_COMMANDS if x in listed]
    assert "ValidateCert" in listed
    for name in ALL_COMMANDS:
        if name in listed or name == "Find" and version != "16.1" or \
                name == "GetAttachment" and version != "12.1":
            continue
        r = c.post(name, '<%s xmlns="%s:"/>' % (name, name), protocol=version)
        if version < "14.0":
            assert r.status == 501, (name, r)
        else:
            assert r.status == 200 and r.wbxml.findtext("Status") == "137", (name, r)
    r = c.post("ValidateCert", '<ValidateCert xmlns="ValidateCert:"><Certificates><Certificate>'
               'eA==</Certificate></Certificates></ValidateCert>')
    assert r.status == 200 and r.wbxml.findtext("Status") == "1"
