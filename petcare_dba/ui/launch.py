"""`python -m petcare_dba.ui.launch`: check Streamlit's configuration, then become the server.

What `petcare-dba up` runs. It refuses to start (exit 2, the option and the file named) when an
operator's Streamlit configuration weakens a hardened option, otherwise replaces itself (same
process id, so signals reach the server) with `streamlit run ui/server.py` plus our defaults for
the options left unset (see `streamlit_config`).
"""

from __future__ import annotations

import os
import sys

from petcare_dba import settings as settings_mod
from petcare_dba.errors import PetcareError
from petcare_dba.ui import streamlit_config


def argv() -> list[str]:
    """The command that serves the app, or SystemExit(2) naming every weaker option."""
    try:
        settings = settings_mod.load()
    except PetcareError as exc:
        raise SystemExit(f"petcare-dba: {exc.message}") from None
    streamlit_config.load_operator_config()
    refused = streamlit_config.violations(only_operator=True)
    if refused:
        print("\n".join(f"petcare-dba: refusing to start: {v}" for v in refused), file=sys.stderr)
        raise SystemExit(2)
    script = str(streamlit_config.SERVER_SCRIPT)
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        script,
        *streamlit_config.flags(settings),
    ]


def main() -> None:
    command = argv()
    os.execv(command[0], command)  # noqa: S606 - our own interpreter and argv


if __name__ == "__main__":
    main()
