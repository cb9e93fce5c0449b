"""The hardened Streamlit defaults stay as they are (a change here must be deliberate)."""

import tomllib
from pathlib import Path

CONFIG = Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml"


def test_hardened_streamlit_defaults():
    config = tomllib.loads(CONFIG.read_text())
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["address"] == "127.0.0.1"  # this machine only, unless --address says otherwise
    assert config["server"]["enableStaticServing"] is False
    assert config["server"]["fileWatcherType"] == "none"
    assert 1 <= config["server"]["maxUploadSize"] <= 200
    assert config["client"]["showErrorDetails"] == "none"
    assert config["client"]["showErrorLinks"] is False
    assert config["browser"]["gatherUsageStats"] is False
    # tables offer no unguarded CSV export: every download is the app's own, formula-safe
    assert config["client"]["disableDataExport"] is True
    # no full collection after each run: it held every page switch of a large network (issue 18)
    assert config["runner"]["postScriptGC"] is False


def test_streamlit_reads_the_hardened_values():
    """Streamlit itself, started in this folder, sees the values (not just the file holding them)."""
    import os
    import subprocess
    import sys

    script = ("from streamlit import config; import json; print(json.dumps({k: config.get_option(k) for k in "
              "['server.enableXsrfProtection', 'client.showErrorDetails', 'server.enableStaticServing', "
              "'client.disableDataExport', 'browser.gatherUsageStats', 'server.fileWatcherType', 'client.showErrorLinks', "
              "'server.address', 'runner.postScriptGC']}))")
    out = subprocess.run([sys.executable, "-c", script], cwd=CONFIG.parent.parent, capture_output=True, text=True,
                         env={k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}, check=True)
    import json

    assert json.loads(out.stdout.strip().splitlines()[-1]) == {
        "server.enableXsrfProtection": True, "client.showErrorDetails": "none", "server.enableStaticServing": False,
        "client.disableDataExport": True, "browser.gatherUsageStats": False, "server.fileWatcherType": "none",
        "client.showErrorLinks": False, "server.address": "127.0.0.1",
        "runner.postScriptGC": False}
