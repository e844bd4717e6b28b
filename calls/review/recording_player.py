"""The call page's recording player: whether to show it, and the per-channel
level bars (computed here from the file, so the page needs no audio decoding
in JavaScript and no inline styles: the bars are SVG rectangles)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.urls import reverse

from calls.models import Call, Recording
from calls.recording.writer import PCM16, _ulaw_to_linear, wav_frames
from calls.review import permissions

BARS = 200
# Reading a long call's file for its levels costs a page view a few hundred ms:
# beyond this (about an hour of mu-law) the player has no bars.
MAX_LEVEL_BYTES = 64 * 1024 * 1024
# Loudness of each mu-law byte, 0..255 (the 16-bit magnitude's top bits).
_MULAW_LEVEL = bytes(min(255, abs(_ulaw_to_linear(b)) >> 7) for b in range(256))
# Loudness of a 16-bit sample from its signed high byte.
_HIGH_LEVEL = bytes(min(255, 2 * abs(b - 256 if b > 127 else b)) for b in range(256))


@dataclass(frozen=True, slots=True)
class LevelBar:
    """One bar of the player's levels: ``x`` and ``width`` (0..100), the caller's
    height up from the middle line (``caller_y`` its top), the assistant's down
    from it (0..50)."""

    x: float
    width: float
    caller: float
    caller_y: float
    assistant: float


def recording_of(call: Call) -> Recording | None:
    try:
        recording = call.recording
    except Recording.DoesNotExist:
        return None
    return recording if recording.file else None


def recording_data(call: Call) -> dict[str, Any] | None:
    """The recording in exports: its link (the authenticated view, never a
    public media URL) and what the file is."""
    recording = recording_of(call)
    if recording is None:
        return None
    return {
        "url": reverse("calls:recording", args=[call.call_sid]),
        "format": recording.format,
        "channels": recording.channels,
        "sample_rate": recording.sample_rate,
        "duration_ms": recording.duration_ms,
        "size_bytes": recording.size_bytes,
        "sha256": recording.sha256,
    }


def player_context(user: permissions.Viewer, call: Call) -> dict[str, object]:
    """``recording`` (None: no player), ``recording_url``, ``levels``."""
    recording = recording_of(call)
    if recording is None or not permissions.has(user, permissions.LISTEN_RECORDING):
        return {"recording": None, "can_listen": recording is not None}
    return {
        "recording": recording,
        "recording_url": reverse("calls:recording", args=[call.call_sid]),
        "levels": levels(recording),
        "recording_length": _length(recording.duration_ms),
    }


def levels(recording: Recording, bars: int = BARS) -> list[LevelBar]:
    """One ``LevelBar`` per bar (none when the file cannot be read)."""
    key = f"recording-level-bars:{recording.sha256 or recording.pk}:{bars}"
    found: object = cache.get(key)
    if isinstance(found, list) and all(isinstance(bar, LevelBar) for bar in found):
        return found
    computed = _levels(recording, bars)
    cache.set(key, computed, 3600)
    return computed


def _levels(recording: Recording, bars: int) -> list[LevelBar]:
    if not recording.size_bytes or recording.size_bytes > MAX_LEVEL_BYTES:
        return []
    try:
        with recording.file.open("rb") as f:
            data = f.read()
    except OSError:
        return []
    found = wav_frames(data)
    if found is None:
        return []
    frames = memoryview(found[0])
    if found[1] == PCM16:
        left = bytes(frames[1::4]).translate(_HIGH_LEVEL)
        right = bytes(frames[3::4]).translate(_HIGH_LEVEL)
    else:
        left = bytes(frames[0::2]).translate(_MULAW_LEVEL)
        right = bytes(frames[1::2]).translate(_MULAW_LEVEL)
    n = len(left)
    if n == 0:
        return []
    sums: list[tuple[float, float]] = []
    for i in range(bars):
        a, b = i * n // bars, max(i * n // bars + 1, (i + 1) * n // bars)
        width = max(1, b - a)
        sums.append((sum(left[a:b]) / width, sum(right[a:b]) / width))
    top = max(1.0, *(max(s) for s in sums))
    out = []
    for i, (caller, assistant) in enumerate(sums):
        up = round(50 * caller / top, 1)
        out.append(
            LevelBar(
                x=round(100 * i / bars, 2),
                width=round(100 / bars, 3),
                caller=up,
                caller_y=round(50 - up, 1),
                assistant=round(50 * assistant / top, 1),
            )
        )
    return out


def _length(ms: int) -> str:
    # Whole seconds cut, not rounded: the browser's player and the call page's
    # offsets and durations show 0:23 for 23.6 s, and so does this hint.
    minutes, seconds = divmod(ms // 1000, 60)
    return f"{minutes}:{seconds:02d}"
