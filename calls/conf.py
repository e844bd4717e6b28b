"""The product's knobs, typed: ``app_settings()`` instead of ``settings.X`` lookups.

``voiceassistant/settings.py`` reads each knob from the environment once (and
reports values it cannot use through the system checks); this module turns them
into one frozen ``AppSettings`` with the type each field has, built on first use and
again only when a test changes a setting (Django's ``setting_changed`` signal, sent
by ``override_settings`` and pytest-django's ``settings`` fixture).

The Django apps and the call runtime read it; the pure layers below them (engines,
call state, telephony protocol code) never do: they are given the values. The
engines' own settings (keys, URLs, prices) are read by the names each engine's spec
gives (``calls.engines``), so a new engine needs no field here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed


@dataclass(frozen=True)
class AppSettings:
    # Engines (every engine: the names once said REALTIME_*).
    engine_connect_timeout: float
    engine_connect_on_upgrade: bool
    engine_ws_client: str
    # Deprecated default engine: "azure", "openai" or "" (unset: OpenAI Realtime).
    realtime_provider: str
    # Calls.
    greeting_cache: bool
    media_mark_interval_ms: int
    tool_filler_after_ms: int
    calls_end_on_sigterm: bool
    calls_sweep_seconds: float
    stream_token_ttl_seconds: int
    # The call log.
    mask_numbers: bool
    recording_retention_days: int | None
    transcript_retention_days: int | None
    recording_spool_dir: Path
    recording_codec: str
    recording_flush_seconds: float

    @classmethod
    def from_settings(cls, source: Any) -> AppSettings:
        """Read from Django's settings (or any object with the same attributes)."""
        return cls(
            engine_connect_timeout=float(source.ENGINE_CONNECT_TIMEOUT),
            engine_connect_on_upgrade=bool(source.ENGINE_CONNECT_ON_UPGRADE),
            engine_ws_client=str(source.ENGINE_WS_CLIENT),
            realtime_provider=str(source.REALTIME_PROVIDER or ""),
            greeting_cache=bool(source.GREETING_CACHE),
            media_mark_interval_ms=int(source.MEDIA_MARK_INTERVAL_MS),
            tool_filler_after_ms=int(source.TOOL_FILLER_AFTER_MS),
            calls_end_on_sigterm=bool(source.CALLS_END_ON_SIGTERM),
            calls_sweep_seconds=float(source.CALLS_SWEEP_SECONDS),
            stream_token_ttl_seconds=int(source.STREAM_TOKEN_TTL_SECONDS),
            mask_numbers=bool(source.CALLS_MASK_NUMBERS),
            recording_retention_days=_days(source.RECORDING_RETENTION_DAYS),
            transcript_retention_days=_days(source.TRANSCRIPT_RETENTION_DAYS),
            recording_spool_dir=Path(str(source.RECORDING_SPOOL_DIR)),
            recording_codec=str(source.RECORDING_CODEC),
            recording_flush_seconds=float(source.RECORDING_FLUSH_SECONDS),
        )


def _days(value: Any) -> int | None:
    return int(value) if value else None


@functools.cache
def app_settings() -> AppSettings:
    """The deployment's knobs (built once per process, see the module docstring)."""
    return AppSettings.from_settings(settings)


def _forget(**kwargs: Any) -> None:
    app_settings.cache_clear()


setting_changed.connect(_forget, dispatch_uid="calls.conf.app_settings")
