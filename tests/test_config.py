"""The hardened Streamlit defaults stay as they are (a change here must be deliberate)."""

import tomllib
from pathlib import Path

CONFIG = Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml"


def test_hardened_streamlit_defaults():
    config = tomllib.loads(CONFIG.read_text())
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["enableStaticServing"] is False
    assert config["server"]["fileWatcherType"] == "none"
    assert 1 <= config["server"]["maxUploadSize"] <= 200
    assert config["client"]["showErrorDetails"] == "none"
    assert config["browser"]["gatherUsageStats"] is False
