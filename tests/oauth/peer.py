"""GitHub's and Facebook's OAuth 2 endpoints and user APIs, as documented, on loopback
(Python standard library only), for tests/tests/sign_in_oauth.rs. Prints
`listening <port>`; exits when stdin closes.

GitHub: GET /github/login/oauth/authorize, POST /github/login/oauth/access_token,
GET /github/api/user, GET /github/api/user/emails.
Facebook: GET /facebook/dialog/oauth, POST /facebook/oauth/access_token,
GET /facebook/graph/me?fields=id,name,email.

The user who consents is named by the test's extra `login` query parameter on the
authorization URL. A name starting with `unverified` has an unverified primary email
on GitHub and no email on Facebook (Facebook returns only confirmed addresses).
Codes are single use and bound to the client, the redirect URI and the PKCE challenge.
"""

import base64
import hashlib
import json
import secrets
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

CLIENTS = {"heepr-github": "gh-secret", "heepr-facebook": "fb-secret"}
CODES = {}
TOKENS = {}
LOCK = threading.Lock()


def user(login):
    uid = zlib.crc32(login.encode()) % 10_000_000 + 1
    return {"id": uid, "login": login, "name": f"User {login}", "email": f"{login}@example.test",
            "verified": not login.startswith("unverified")}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path in ("/github/login/oauth/authorize", "/facebook/dialog/oauth"):
            if q.get("client_id") not in CLIENTS or q.get("code_challenge_method") != "S256":
                return self.answer(400, {"error": "invalid_request"})
            code = secrets.token_urlsafe(16)
            with LOCK:
                CODES[code] = {"client_id": q["client_id"], "redirect_uri": q["redirect_uri"],
                               "challenge": q["code_challenge"], "login": q.get("login", "octocat")}
            target = q["redirect_uri"] + "?" + urlencode({"code": code, "state": q.get("state", "")})
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        auth = self.headers.get("Authorization", "")
        with LOCK:
            login = TOKENS.get(auth.removeprefix("Bearer ").strip())
        if login is None:
            return self.answer(401, {"message": "Bad credentials"})
        u = user(login)
        if url.path == "/github/api/user":
            return self.answer(200, {"id": u["id"], "login": login, "name": u["name"]})
        if url.path == "/github/api/user/emails":
            return self.answer(200, [{"email": u["email"], "primary": True, "verified": u["verified"],
                                      "visibility": "public"}])
        if url.path == "/facebook/graph/me":
            fields = q.get("fields", "id").split(",")
            me = {"id": str(u["id"]), "name": u["name"]}
            if "email" in fields and u["verified"]:
                me["email"] = u["email"]
            return self.answer(200, me)
        return self.answer(404, {"message": "Not Found"})

    def do_POST(self):
        url = urlparse(self.path)
        if url.path not in ("/github/login/oauth/access_token", "/facebook/oauth/access_token"):
            return self.answer(404, {"message": "Not Found"})
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        with LOCK:
            grant = CODES.pop(form.get("code", ""), None)  # single use
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (grant is None or CLIENTS.get(form.get("client_id")) != form.get("client_secret")
                or grant["client_id"] != form.get("client_id") or grant["redirect_uri"] != form.get("redirect_uri")
                or grant["challenge"] != challenge):
            return self.answer(400, {"error": "invalid_grant", "error_description": "bad verification code"})
        token = secrets.token_urlsafe(24)
        with LOCK:
            TOKENS[token] = grant["login"]
        return self.answer(200, {"access_token": token, "token_type": "bearer", "scope": "user:email"})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening {server.server_address[1]}", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
