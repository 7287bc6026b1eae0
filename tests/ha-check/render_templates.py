#!/usr/bin/env python3
"""Render MQTT value templates the way Home Assistant feeds them (ups2mqtt's own helper,
not Home Assistant code).

stdin: a JSON array of {"template": ..., "payload": ...}; stdout: a JSON array with, per item,
the rendered string or {"error": ...}. Like Home Assistant's
Template.async_render_with_possible_json_value: `value` is the payload, `value_json` the parsed
payload when it is JSON (else undefined), in a Jinja ImmutableSandboxedEnvironment (the base of
Home Assistant's template environment). Home Assistant's own filters are not available.
"""

import json
import sys

from jinja2.sandbox import ImmutableSandboxedEnvironment

ENV = ImmutableSandboxedEnvironment()


def render(template: str, payload: str):
    variables = {"value": payload}
    try:
        variables["value_json"] = json.loads(payload)
    except ValueError:
        pass
    try:
        return ENV.from_string(template).render(variables).strip()
    except Exception as exc:  # noqa: BLE001 - reported to the test
        return {"error": f"{type(exc).__name__}: {exc}"}


def main() -> int:
    items = json.load(sys.stdin)
    json.dump([render(i["template"], i["payload"]) for i in items], sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
