"""Loads heepr's A2A agent cards with the official A2A Python SDK (`a2a-sdk`): its own
card resolver fetches them, and its protobuf types parse them strictly (an unknown
field is an error, not ignored).

Usage: cards.py BASE_URL AGENT_ID
"""
import asyncio
import json
import sys

import httpx
from a2a.client.card_resolver import A2ACardResolver
from a2a.types import AgentCard
from google.protobuf.json_format import ParseDict

BASE, AGENT = sys.argv[1], sys.argv[2]


async def main():
    async with httpx.AsyncClient() as http:
        for path in ("/.well-known/agent-card.json", f"/api/agents/{AGENT}/agent-card.json"):
            card = await A2ACardResolver(http, BASE, agent_card_path=path).get_agent_card()
            raw = (await http.get(BASE + path)).json()
            strict = ParseDict(raw, AgentCard(), ignore_unknown_fields=False)
            assert strict == card, f"{path}: the resolver and the strict parse disagree"
            assert card.name and card.description and card.skills, f"{path}: empty card"
            iface = card.supported_interfaces[0]
            assert iface.url.startswith(BASE + "/api"), iface.url
            assert iface.protocol_binding == "HEEPR+REST", iface.protocol_binding
            assert card.documentation_url == BASE + "/openapi.json"
            print(f"ok {path}: {card.name}, {len(card.skills)} skill(s)")
        agent = (await http.get(f"{BASE}/api/agents/{AGENT}/agent-card.json")).json()
        assert "points" in agent["skills"][0]["description"], "pricing belongs in the skill description"
        print(json.dumps({"cards": 2, "ok": True}))


asyncio.run(main())
