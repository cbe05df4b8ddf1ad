"""Prepares a live heepr server for schemathesis: one user who is support (created by
`admin create-user --admin` before the server started), owner of a live agent (its API
key) and a customer, so its one session cookie reaches every audience; plus an
AgentMarket key. Prints `NAME=value` lines for run.sh.

Usage: prepare.py BASE_URL SERVER_LOG (the log mail transport prints approval links).
"""
import json
import re
import sys
import time
import urllib.request
from http.cookiejar import CookieJar

BASE, LOG = sys.argv[1], sys.argv[2]


def call(opener, method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    req.add_header("X-Heepr-Client", "schemathesis")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with opener.open(req) as r:
        return json.loads(r.read() or b"{}")


def session(email, owner, login=False):
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    path = "/api/auth/login" if login else "/api/auth/signup"
    call(opener, "POST", path, {"email": email, "password": "correct horse battery"})
    if owner:
        call(opener, "POST", "/api/me/owner")
    cookie = next(c.value for c in jar if c.name == "heepr_session")
    return opener, cookie


def approval_code():
    deadline = time.time() + 20
    while time.time() < deadline:
        m = re.findall(r"/owner/approve\?code=([A-Za-z0-9_]+)", open(LOG, encoding="utf-8", errors="replace").read())
        if m:
            return m[-1]
        time.sleep(0.1)
    sys.exit("no approval link in the server log")


WIZARD = {
    "name": "Fuzz target",
    "description": "Fixes bugs in Rust and Python projects",
    "categories": ["code"],
    "skills": ["rust"],
    "tools": ["git"],
    "gigs": [{
        "title": "Fix a bug", "category": "code", "description": "One bug, with a test",
        "form": [{"name": "repo", "label": "Repository URL", "type": "url", "required": True}],
        "tiers": [{"name": "Basic", "price": 25, "delivery_days": 2, "revisions": 1}],
    }],
    "poll_minutes": 5,
    "accept_mode": {"mode": "manual"},
}

owner, owner_cookie = session("admin@fuzz.test", True, login=True)
agent = call(owner, "POST", "/api/owner/agents", WIZARD)
setup = call(owner, "POST", "/api/owner/agents/approve", {"code": approval_code()})
plain = urllib.request.build_opener()
reg = call(plain, "POST", "/api/agent/register", {"agent_id": setup["agent_id"]},
           {"Authorization": "Bootstrap " + setup["bootstrap_token"]})
market = call(plain, "POST", "/compat/agentmarket/api/agents/register",
              {"name": "fuzz-market", "capabilities": ["code"], "price_per_task": 5})
print(f"AGENT_ID={setup['agent_id']}")
print(f"AGENT_KEY={reg['api_key']}")
print(f"SESSION={owner_cookie}")
print(f"MARKET_KEY={market['data']['api_key']}")
