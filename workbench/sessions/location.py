"""Which folder holds the sessions: ``--sessions-dir`` > config ``sessions_dir`` > data dir."""

from __future__ import annotations

from pathlib import Path

from workbench import paths


def _configured_dir() -> Path | None:
    try:
        from workbench.config import load_config
    except ImportError:  # the config module is optional for headless use
        return None
    try:
        config, _problems = load_config()
    except Exception:  # a broken config must not stop the store from working
        return None
    value = getattr(config, "sessions_dir", None)
    return Path(value).expanduser() if value else None


def resolve_sessions_dir(flag: str | Path | None = None) -> Path:
    if flag:
        return Path(flag).expanduser()
    return _configured_dir() or paths.sessions_dir()
