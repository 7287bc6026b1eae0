"""Start Home Assistant exactly like `python -m homeassistant ARGS` (tests/e2e).

The one difference, only when HA_REAL_IGNORE_PY_MIN=1 (setup.sh sets it in the venv's
ha-real.env for a release whose Requires-Python is newer than the interpreter, e.g. Home
Assistant 2026.2.3 [>= 3.13.2] on pyenv's 3.13.0): Home Assistant's start-up check
`sys.version_info < REQUIRED_PYTHON_VER` is relaxed to this interpreter's version. No Home
Assistant file is changed.
"""
import os
import sys

import homeassistant.__main__ as ha_main

if os.environ.get("HA_REAL_IGNORE_PY_MIN") == "1" and sys.version_info[:3] < ha_main.REQUIRED_PYTHON_VER:
    print(f"ha_launch: Home Assistant wants Python >= {ha_main.REQUIRED_PYTHON_VER}, running on "
          f"{sys.version.split()[0]} (unsupported patch level, check relaxed)", file=sys.stderr)
    ha_main.REQUIRED_PYTHON_VER = tuple(sys.version_info[:3])
sys.exit(ha_main.main())
