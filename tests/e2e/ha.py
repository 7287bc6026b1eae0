#!/usr/bin/env python3
"""Talk to the real Home Assistant of the end-to-end test (REST and websocket API).

Adapted from ../shared/home-assistant/real/query.py. Run it with the Home Assistant venv's
python (it needs aiohttp, which Home Assistant ships); tests/home_assistant.rs does.

    PY=~/.cache/ups2mqtt-peers/ha-real-venv/bin/python
    $PY ha.py --url URL --token-file F onboard --broker-port 1883 [--pid PID]
    $PY ha.py --url URL --token-file F ready [--pid PID]   # API up and the mqtt entry loaded
    $PY ha.py --url URL --token-file F dump                # mqtt devices and entities as JSON
    $PY ha.py --url URL --token-file F call switch.turn_off switch.rack1_x [--data '{"k": 1}']
    $PY ha.py --url URL --token-file F logs                # system_log entries, WARNING and up
    $PY ha.py --url URL --token-file F enable-all          # enable every disabled mqtt entity
    $PY ha.py --url URL --token-file F ws energy/validate [--data '{"k": 1}']  # one ws command
    $PY ha.py --url URL --token-file F rest GET /api/states [--data '{"k": 1}']  # one REST call

Only loopback URLs are accepted.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from datetime import datetime
from urllib.parse import urlparse

import aiohttp

CLIENT_ID = "http://127.0.0.1/"  # onboarding/auth client id (any URL is accepted)


def _check_loopback(url: str) -> str:
    host = urlparse(url).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("127."):
        sys.exit(f"refusing non-loopback Home Assistant url: {url}")
    return url.rstrip("/")


class HA:
    def __init__(self, url: str, token: str | None):
        self.url = _check_loopback(url)
        self.token = token
        self.session = aiohttp.ClientSession()
        self._ws = None
        self._id = 0

    async def close(self):
        if self._ws is not None:
            await self._ws.close()
        await self.session.close()

    def _hdr(self):
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def rest(self, method: str, path: str, payload=None, data=None, auth=True):
        async with self.session.request(
            method, self.url + path, json=payload, data=data,
            headers=self._hdr() if auth else {},
        ) as r:
            text = await r.text()
            try:
                body = json.loads(text) if text else None
            except ValueError:
                body = text
            if r.status >= 400:
                raise RuntimeError(f"{method} {path} -> HTTP {r.status}: {text[:500]}")
            return body

    async def ws(self, msg: dict):
        if self._ws is None:
            ws_url = self.url.replace("http", "ws", 1) + "/api/websocket"
            self._ws = await self.session.ws_connect(ws_url, max_msg_size=0)
            hello = await self._ws.receive_json()
            assert hello["type"] == "auth_required", hello
            await self._ws.send_json({"type": "auth", "access_token": self.token})
            res = await self._ws.receive_json()
            if res["type"] != "auth_ok":
                raise RuntimeError(f"websocket auth failed: {res}")
        self._id += 1
        await self._ws.send_json({"id": self._id, **msg})
        while True:
            res = await self._ws.receive_json()
            if res.get("id") == self._id and res.get("type") == "result":
                if not res["success"]:
                    raise RuntimeError(f"ws {msg['type']} failed: {res.get('error')}")
                return res["result"]


def _alive(pid: int | None) -> bool:
    if not pid:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) counts as dead
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


async def _wait_api(ha: HA, a, path: str, auth: bool):
    deadline = time.monotonic() + a.timeout
    while True:
        try:
            return await ha.rest("GET", path, auth=auth)
        except (aiohttp.ClientError, RuntimeError):
            if not _alive(a.pid):
                sys.exit(f"Home Assistant (pid {a.pid}) exited before its API answered")
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)


async def _wait_mqtt_loaded(ha: HA, a, entry_id: str | None):
    deadline = time.monotonic() + a.timeout
    while True:
        entries = await ha.rest("GET", "/api/config/config_entries/entry?domain=mqtt")
        states = [e["state"] for e in entries if entry_id in (None, e["entry_id"])]
        if states and all(s == "loaded" for s in states):
            return
        if time.monotonic() > deadline:
            sys.exit(f"mqtt entry not loaded in time (states={states})")
        await asyncio.sleep(0.2)


async def onboard(a) -> int:
    """Owner user, long-lived token, and the MQTT config entry through Home Assistant's own
    config flow (it test-connects to the broker). The other onboarding steps stay undone on
    purpose: "core_config" would set up internet services (met, radio_browser, ...)."""
    ha = HA(a.url, None)
    try:
        steps = await _wait_api(ha, a, "/api/onboarding", auth=False)
        if next(s for s in steps if s["step"] == "user")["done"]:
            sys.exit("Home Assistant already onboarded: use a fresh config dir")
        res = await ha.rest("POST", "/api/onboarding/users", {
            "client_id": CLIENT_ID, "name": "ups2mqtt e2e", "username": "e2e",
            "password": "e2e-password", "language": "en"}, auth=False)
        tok = await ha.rest("POST", "/auth/token", data={
            "grant_type": "authorization_code", "code": res["auth_code"],
            "client_id": CLIENT_ID}, auth=False)
        ha.token = tok["access_token"]
        ha.token = await ha.ws({"type": "auth/long_lived_access_token",
                                "client_name": "ups2mqtt e2e", "lifespan": 3650})
        with open(a.token_file, "w") as f:
            f.write(ha.token)
        os.chmod(a.token_file, 0o600)
        flow = await ha.rest("POST", "/api/config/config_entries/flow",
                             {"handler": "mqtt", "show_advanced_options": False})
        if flow.get("type") == "form":
            flow = await ha.rest("POST", f"/api/config/config_entries/flow/{flow['flow_id']}",
                                 {"broker": a.broker_host, "port": a.broker_port})
        if flow.get("type") != "create_entry":
            sys.exit(f"mqtt config flow did not create an entry: {json.dumps(flow)}")
        await _wait_mqtt_loaded(ha, a, flow["result"]["entry_id"])
        cfg = await ha.rest("GET", "/api/config")
        print(json.dumps({"mqtt_entry_id": flow["result"]["entry_id"], "version": cfg["version"]}))
        return 0
    finally:
        await ha.close()


async def ready(a) -> int:
    """An already onboarded Home Assistant (restarted): API up, mqtt entry loaded."""
    ha = await _client(a)
    try:
        await _wait_api(ha, a, "/api/", auth=True)
        await _wait_mqtt_loaded(ha, a, None)
        cfg = await ha.rest("GET", "/api/config")
        print(json.dumps({"version": cfg["version"], "state": cfg["state"]}))
        return 0
    finally:
        await ha.close()


async def collect(ha: HA) -> dict:
    ents = [e for e in await ha.ws({"type": "config/entity_registry/list"})
            if e["platform"] == "mqtt"]
    devs = await ha.ws({"type": "config/device_registry/list"})
    all_devs = {d["id"]: d for d in devs}
    states = {s["entity_id"]: s for s in await ha.ws({"type": "get_states"})}
    entry_ids = {e["config_entry_id"] for e in ents}
    devs = [d for d in devs if set(d["config_entries"]) & entry_ids
            or any(i[0] == "mqtt" for i in d["identifiers"])]

    def ident(dev_id):
        d = all_devs.get(dev_id)
        return [i[1] for i in d["identifiers"]] if d else None

    out_devs = [{
        "identifiers": [i[1] for i in d["identifiers"]],
        "name": d["name"], "manufacturer": d["manufacturer"], "model": d["model"],
        "sw_version": d["sw_version"], "serial_number": d.get("serial_number"),
        "via_device": ident(d["via_device_id"]) if d["via_device_id"] else None,
        "area_id": d.get("area_id"), "configuration_url": d.get("configuration_url"),
        "model_id": d.get("model_id"), "hw_version": d.get("hw_version"),
    } for d in devs]
    out_ents = []
    for e in sorted(ents, key=lambda e: e["entity_id"]):
        st = states.get(e["entity_id"])
        out_ents.append({
            "entity_id": e["entity_id"], "unique_id": e.get("unique_id"),
            "name": e.get("original_name"),
            "entity_category": e.get("entity_category"),
            "device": ident(e["device_id"]) if e.get("device_id") else None,
            "disabled_by": e.get("disabled_by"),
            "state": st["state"] if st else None,
            "attributes": st["attributes"] if st else None,
            # when the state last changed, unix seconds (Home Assistant's clock = ours)
            "changed": datetime.fromisoformat(st["last_changed"]).timestamp() if st else None,
        })
    return {"devices": out_devs, "entities": out_ents}


async def _client(a) -> HA:
    with open(a.token_file) as f:
        return HA(a.url, f.read().strip())


async def cmd_dump(a):
    ha = await _client(a)
    try:
        print(json.dumps(await collect(ha)))
    finally:
        await ha.close()


async def cmd_call(a):
    domain, service = a.service.split(".", 1)
    body = json.loads(a.data) if a.data else {}
    body["entity_id"] = a.entity_id
    ha = await _client(a)
    try:
        print(json.dumps(await ha.rest("POST", f"/api/services/{domain}/{service}", body)))
    finally:
        await ha.close()


async def cmd_logs(a):
    ha = await _client(a)
    try:
        entries = await ha.ws({"type": "system_log/list"})
        print(json.dumps([{"level": e["level"], "name": e["name"], "count": e["count"],
                           "message": e["message"]} for e in entries]))
    finally:
        await ha.close()


async def cmd_enable_all(a):
    """Enable every mqtt entity that is disabled by its integration (enabled_by_default:
    false). Home Assistant instantiates them at its next start (or a reload)."""
    ha = await _client(a)
    try:
        ents = [e for e in await ha.ws({"type": "config/entity_registry/list"})
                if e["platform"] == "mqtt" and e.get("disabled_by") == "integration"]
        for e in ents:
            await ha.ws({"type": "config/entity_registry/update", "entity_id": e["entity_id"],
                         "disabled_by": None})
        print(json.dumps({"enabled": len(ents)}))
    finally:
        await ha.close()


async def cmd_ws(a):
    """One websocket command (`type` plus the --data object); prints its result."""
    ha = await _client(a)
    try:
        print(json.dumps(await ha.ws({"type": a.type, **(json.loads(a.data) if a.data else {})})))
    finally:
        await ha.close()


async def cmd_rest(a):
    """One REST call on the API (a path under /api/); prints the JSON body."""
    if not a.path.startswith("/api/"):
        sys.exit(f"not an API path: {a.path}")
    ha = await _client(a)
    try:
        body = json.loads(a.data) if a.data else None
        print(json.dumps(await ha.rest(a.method.upper(), a.path, body)))
    finally:
        await ha.close()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True)
    p.add_argument("--token-file", required=True)
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("onboard", "ready"):
        s = sub.add_parser(name)
        s.add_argument("--timeout", type=float, default=180)
        s.add_argument("--pid", type=int, help="Home Assistant's pid: stop waiting if it exits")
        if name == "onboard":
            s.add_argument("--broker-host", default="127.0.0.1")
            s.add_argument("--broker-port", type=int, required=True)
    s = sub.add_parser("call")
    s.add_argument("service")
    s.add_argument("entity_id")
    s.add_argument("--data")
    for name in ("dump", "logs", "enable-all"):
        sub.add_parser(name)
    s = sub.add_parser("ws")
    s.add_argument("type")
    s.add_argument("--data")
    s = sub.add_parser("rest")
    s.add_argument("method")
    s.add_argument("path")
    s.add_argument("--data")
    a = p.parse_args()
    fn = {"onboard": onboard, "ready": ready, "dump": cmd_dump, "call": cmd_call,
          "logs": cmd_logs, "enable-all": cmd_enable_all, "ws": cmd_ws, "rest": cmd_rest}[a.cmd]
    sys.exit(asyncio.run(fn(a)) or 0)


if __name__ == "__main__":
    main()
