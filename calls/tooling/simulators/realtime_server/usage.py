"""Token usage of a simulated response, in the GA ``response.done`` shape.

Plausible rather than exact: the whole conversation so far counts as input (text
from instructions and answers, audio at 10 tokens/s in and 20 tokens/s out), and
the previous response's input is reported as cached, in steps of 64 tokens.
"""

from __future__ import annotations

from typing import Any

from calls.tooling.simulators.realtime_server.contracts import AudioItem, ResponseHost


def usage_for(conn: ResponseHost, run: AudioItem) -> dict[str, Any]:
    """GA-shaped usage: the whole conversation is input, earlier input cached."""
    instructions = len(conn.session.get("instructions") or "") // 4 + 40
    history = sum(len(t) for t in conn.record.answers) // 4
    audio_in = (
        conn.input_audio_ms // 100 + sum(r.audio_ms for r in conn.items.values()) // 50
    )
    text_in = instructions + history
    total_in = text_in + audio_in
    cached = min(conn.cached_tokens, total_in)
    cached_text = min(cached, text_in)
    conn.cached_tokens = total_in // 64 * 64
    text_out = max(1, len(run.transcript) // 4)
    audio_out = run.audio_ms // 50
    return {
        "total_tokens": total_in + text_out + audio_out,
        "input_tokens": total_in,
        "output_tokens": text_out + audio_out,
        "input_token_details": {
            "text_tokens": text_in,
            "audio_tokens": audio_in,
            "image_tokens": 0,
            "cached_tokens": cached,
            "cached_tokens_details": {
                "text_tokens": cached_text,
                "audio_tokens": cached - cached_text,
                "image_tokens": 0,
            },
        },
        "output_token_details": {
            "text_tokens": text_out,
            "audio_tokens": audio_out,
        },
    }
