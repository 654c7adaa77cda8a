"""The TLS port of an instance (README, "TLS"): Mozilla's "intermediate" settings - TLS 1.2
with AEAD + forward-secrecy suites, TLS 1.3; no CBC suites, nothing older than TLS 1.2."""

import subprocess


def s_client(instance, *args):
    """One handshake with openssl s_client against the instance's TLS port; returns
    (exit code, output)."""
    p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % instance.tls_port,
                        "-servername", "127.0.0.1", "-CAfile", instance.tls_cert] + list(args),
                       input=b"", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def test_tls12_cbc_sha_suite_is_refused(instance):
    rc, out = s_client(instance, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA")
    assert rc != 0, out
    assert "Cipher is (NONE)" in out or "handshake failure" in out, out


def test_tls12_aead_suite_works(instance):
    rc, out = s_client(instance, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256")
    assert rc == 0, out
    assert "Cipher is ECDHE-ECDSA-AES128-GCM-SHA256" in out, out
    assert "Verify return code: 0 (ok)" in out, out


def test_tls13_works(instance):
    rc, out = s_client(instance, "-tls1_3")
    assert rc == 0, out
    assert "New, TLSv1.3" in out, out


def test_tls11_is_refused(instance):
    rc, out = s_client(instance, "-tls1_1", "-cipher", "ALL:@SECLEVEL=0")
    assert rc != 0, out
    assert "Cipher is (NONE)" in out or "alert" in out, out


def test_session_tickets_off(instance):
    rc, out = s_client(instance, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256")
    assert rc == 0, out
    assert "TLS session ticket:" not in out, out
