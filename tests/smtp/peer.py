#!/usr/bin/env python3
"""A real SMTP server for heepr's end-to-end tests, built on aiosmtpd.

It speaks plain SMTP, STARTTLS (required) or implicit TLS, with a certificate signed by a
throw-away CA it makes with openssl (the test trusts that CA through HEEPR_MAIL_CA_FILE),
and optionally requires authentication. Every accepted message is written as one JSON
file into --out (written to a temporary name, then renamed, so a reader never sees half a
file); --fail-first N answers the first N messages with a temporary failure (451), and
--refuse ADDRESS refuses that recipient for good (550). It prints `ready <port>` once it
accepts connections, then serves until it is killed.
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import ssl
import subprocess
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def make_certificates(directory):
    """A CA and a leaf for 127.0.0.1/localhost signed by it; returns (cert, key) paths."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    ca_key, ca = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.pem")
    key, csr, cert = (os.path.join(directory, n) for n in ("leaf.key", "leaf.csr", "leaf.pem"))
    ext = os.path.join(directory, "leaf.ext")
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=heepr test CA",
        "-keyout", ca_key, "-out", ca)
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", key, "-out", csr)
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n"
                "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "2",
        "-extfile", ext, "-out", cert)
    return cert, key


class Handler:
    def __init__(self, out, fail_first, refuse):
        self.out = out
        self.fail_first = fail_first
        self.refuse = set(refuse)
        self.count = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 <%s>: no such mailbox here" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            n = self.count
            failing = self.fail_first > 0
            if failing:
                self.fail_first -= 1
        if failing:
            self.write("failed-%04d.json" % n, {"failed": True})
            return "451 4.3.0 try again later"
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        self.write("message-%04d.json" % n, {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(msg["From"]),
            "to": str(msg["To"]),
            "reply_to": str(msg["Reply-To"]) if msg["Reply-To"] else None,
            "subject": str(msg["Subject"]),
            "text": text.get_content() if text is not None else None,
            "html": html.get_content() if html is not None else None,
            # STARTTLS sets session.ssl; implicit TLS wraps the transport itself.
            "tls": session.ssl is not None
            or server.transport.get_extra_info("ssl_object") is not None,
            "authenticated": bool(session.authenticated),
        })
        return "250 2.0.0 accepted"

    def write(self, name, record):
        tmp = os.path.join(self.out, "." + name)
        with open(tmp, "w") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(self.out, name))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
    p.add_argument("--certs", help="directory for the CA and the server certificate")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--out", required=True)
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--refuse", action="append", default=[])
    a = p.parse_args()

    kwargs = {}
    if a.tls != "none":
        cert, key = make_certificates(a.certs)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        if a.tls == "starttls":
            kwargs.update(tls_context=ctx, require_starttls=True)
        else:
            kwargs.update(ssl_context=ctx)
    if a.user:
        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (auth_data.login.decode(), auth_data.password.decode()) == (a.user, a.password)
            return AuthResult(success=ok)
        # Over implicit TLS the connection is encrypted before SMTP starts.
        kwargs.update(authenticator=authenticator, auth_required=True,
                      auth_require_tls=(a.tls == "starttls"))
    handler = Handler(a.out, a.fail_first, a.refuse)
    controller = Controller(handler, hostname="127.0.0.1", port=a.port, **kwargs)
    controller.start()
    print("ready %d" % a.port, flush=True)
    try:
        threading.Event().wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())
