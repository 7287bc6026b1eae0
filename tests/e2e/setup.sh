#!/usr/bin/env bash
# Create (idempotently) the venv with a real Home Assistant Core for the end-to-end test
# (tests/home_assistant.rs). Adapted from ../shared/home-assistant/real/setup.sh.
#
# usage: bash tests/e2e/setup.sh
# env:   HA_REAL_VENV  default ${UPS2MQTT_PEERS:-~/.cache/ups2mqtt-peers}/ha-real-venv
#        HA_VERSION    default 2026.2.3 (wants Python >= 3.13.2: installed with
#                      --ignore-requires-python on pyenv's 3.13.0, see tests/e2e/README.md)
#        HA_PYTHON     default pyenv's 3.13.0 (`pyenv root`, else /root/.pyenv), else python3.13
#                      on PATH; none of them: exit 2 (no silent skip)
#        SKIP_APT=1    do not apt-get install mosquitto mosquitto-clients libturbojpeg0
# Re-running with the venv complete (its marker names this version and this file's hash) does
# nothing; with this version installed but the marker stale (this file changed), it only adds
# the requirements. Prints "venv ready: DIR ..." last.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
HA_VERSION="${HA_VERSION:-2026.2.3}"
PEERS="${UPS2MQTT_PEERS:-${HOME:-/root}/.cache/ups2mqtt-peers}"
VENV="${HA_REAL_VENV:-$PEERS/ha-real-venv}"

find_python() {
    local root
    if [[ -n ${HA_PYTHON:-} ]]; then
        echo "$HA_PYTHON"; return
    fi
    for root in "$(pyenv root 2>/dev/null || true)" "${PYENV_ROOT:-}" "${HOME:-/root}/.pyenv" /root/.pyenv; do
        if [[ -n $root && -x $root/versions/3.13.0/bin/python3.13 ]]; then
            echo "$root/versions/3.13.0/bin/python3.13"; return
        fi
    done
    command -v python3.13 || true
}
PYBIN="$(find_python)"
if [[ -z $PYBIN || ! -x $PYBIN ]]; then
    echo "tests/e2e/setup.sh: no Python 3.13 found (pyenv's 3.13.0 or python3.13 on PATH);" \
        "Home Assistant $HA_VERSION needs it. Set HA_PYTHON=/path/to/python3.13." >&2
    exit 2
fi

if [[ ${SKIP_APT:-0} != 1 ]] && { ! command -v mosquitto >/dev/null && [[ ! -x /usr/sbin/mosquitto ]] \
    || ! command -v mosquitto_pub >/dev/null || ! ldconfig -p | grep -q libturbojpeg; }; then
    # libturbojpeg0 only silences an ERROR Home Assistant logs at start (camera helper import).
    if [[ $(id -u) -eq 0 ]]; then
        apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q \
            --no-install-recommends mosquitto mosquitto-clients libturbojpeg0 >/dev/null
    else
        echo "warning: mosquitto / mosquitto-clients / libturbojpeg0 missing and not root" >&2
    fi
fi

STAMP="$HA_VERSION $(sha256sum <"$HERE/setup.sh" | cut -c1-16)"
MARKER="$VENV/.ups2mqtt-e2e"
if [[ -f $MARKER && $(cat "$MARKER") == "$STAMP" && -x $VENV/bin/python ]] \
    && "$VENV/bin/python" -c 'import homeassistant, aiohttp, paho.mqtt' 2>/dev/null; then
    echo "venv ready: $VENV (homeassistant $HA_VERSION, present)"
    exit 0
fi
T0=$SECONDS
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
IGNORE=()
if [[ -x $VENV/bin/python ]] && [[ $("$VENV/bin/python" -c \
    'import importlib.metadata as m; print(m.version("homeassistant"))' 2>/dev/null) == "$HA_VERSION" ]]; then
    # This release is there: only the integration requirements below may be new (a venv
    # other runs use at the same time is completed, not rebuilt).
    [[ -f $VENV/ha-real.env ]] && IGNORE=(--ignore-requires-python)
    echo "homeassistant $HA_VERSION present in $VENV: completing its requirements"
else
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$PYBIN" -m venv "$VENV"
    "$VENV/bin/pip" install -q -U pip
    # Does this interpreter satisfy the release's Requires-Python?
    if ! "$VENV/bin/pip" download -q --no-deps --only-binary=:all: -d "$VENV/.dl" \
        "homeassistant==$HA_VERSION" >/dev/null 2>&1; then
        echo "homeassistant $HA_VERSION does not accept $("$PYBIN" -V); installing with --ignore-requires-python" >&2
        IGNORE=(--ignore-requires-python)
        echo "HA_REAL_IGNORE_PY_MIN=1" >"$VENV/ha-real.env"
    fi
    rm -rf "$VENV/.dl"
    "$VENV/bin/pip" install -q --prefer-binary "${IGNORE[@]}" "homeassistant==$HA_VERSION"
fi
SITE="$("$VENV/bin/python" -c 'import homeassistant, os; print(os.path.dirname(homeassistant.__file__))')"
# The requirements of every integration this Home Assistant sets up (its DEFAULT_INTEGRATIONS,
# mqtt, nut (pointed at the gateway's NUT server) and the entity platforms, with their
# dependencies), resolved by Home Assistant's own
# loader and pinned by its package_constraints.txt: it runs with --skip-pip and never installs
# anything itself.
REQS="$("$VENV/bin/python" - <<'PY'
import asyncio, tempfile
from homeassistant import bootstrap, loader
from homeassistant.core import HomeAssistant
async def main():
    hass = HomeAssistant(tempfile.mkdtemp())
    loader.async_setup(hass)
    todo = list(bootstrap.DEFAULT_INTEGRATIONS | bootstrap.CORE_INTEGRATIONS | {
        "mqtt", "nut", "api", "websocket_api", "http", "logger", "system_log", "network", "recorder",
        "sensor", "binary_sensor", "switch", "number", "select", "button", "event", "text"})
    seen, reqs = set(), set()
    while todo:
        d = todo.pop()
        if d in seen:
            continue
        seen.add(d)
        i = await loader.async_get_integration(hass, d)
        reqs.update(i.requirements)
        todo += list(i.dependencies) + list(i.after_dependencies)
    print(" ".join(sorted(reqs)))
    await hass.async_stop(force=True)
asyncio.run(main())
PY
)"
echo "integration requirements: $REQS"
# shellcheck disable=SC2086
"$VENV/bin/pip" install -q --prefer-binary "${IGNORE[@]}" -c "$SITE/package_constraints.txt" \
    "homeassistant==$HA_VERSION" $REQS
"$VENV/bin/pip" check
echo "$STAMP" >"$MARKER"
echo "venv ready: $VENV (homeassistant $HA_VERSION, $("$VENV/bin/python" -V)), $((SECONDS - T0)) s"
