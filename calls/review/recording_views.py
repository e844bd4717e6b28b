"""A call's recording, to ``calls.listen_recording`` holders only.

Recordings are never at a public media URL: this view reads them through
``STORAGES["recordings"]`` and streams them, with HTTP Range requests (an
<audio> element seeks with them; Django's FileResponse ignores Range). Every
request is logged in ``RecordingAccess`` (who, when, which bytes).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from django.contrib.auth.models import User
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)

from calls.models import Recording
from calls.review import permissions
from calls.services.recordings import recording_access_add

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024
GONE = (
    "This call's recording file is no longer in storage (deleted or lost); "
    "only its record remains."
)
UNREACHABLE = "The recordings storage cannot be reached; try again later."
# Bounded: a byte offset has at most 18 digits, and int() of thousands of digits
# is refused by Python (a 500) or slow.
_RANGE = re.compile(r"bytes=(\d{0,18})-(\d{0,18})")


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """``Range: bytes=a-b`` -> (first, last) inclusive, clamped to ``size``;
    None for no usable single range (the whole file is sent), ``(-1, -1)`` when
    it cannot be satisfied (416). Multiple ranges are answered with the whole
    file, which RFC 9110 allows."""
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        n = int(last)
        if n == 0:
            return (-1, -1)
        return (max(0, size - n), size - 1)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return (-1, -1)
    return (start, end)


def _stream(recording: Recording, start: int, length: int) -> Iterator[bytes]:
    with recording.file.open("rb") as f:
        f.seek(start)
        while length > 0:
            data = f.read(min(CHUNK, length))
            if not data:
                return
            length -= len(data)
            yield data


def _missing_file(recording: Recording) -> HttpResponse | None:
    """The answer when the storage no longer has the file (410) or cannot be
    asked (503); None when it is there (a HEAD request on S3)."""
    try:
        if recording.file.storage.exists(recording.file.name):
            return None
    except Exception:
        logger.exception("recording storage unreachable")
        return HttpResponse(
            UNREACHABLE, status=503, content_type="text/plain; charset=utf-8"
        )
    # A row whose file went (a purge that deleted the file but not yet the row,
    # a lost volume or bucket): say so with a status now rather than start a 200
    # and fail mid-stream.
    logger.warning("recording row without its file: %s", recording.file.name)
    return HttpResponse(GONE, status=410, content_type="text/plain; charset=utf-8")


@permissions.require(permissions.VIEW, permissions.LISTEN_RECORDING)
def recording_audio(request: HttpRequest, call_sid: str) -> HttpResponseBase:
    recording = (
        Recording.objects.filter(call__call_sid=call_sid).exclude(file="").first()
    )
    if recording is None:
        raise Http404("This call has no recording.")
    missing = _missing_file(recording)
    if missing is not None:  # not logged as an access: nothing was played
        return missing
    size = recording.size_bytes or recording.file.size
    header = request.headers.get("Range", "")
    wanted = parse_range(header, size) if header else None
    user = request.user if isinstance(request.user, User) else None
    recording_access_add(
        recording=recording,
        user=user,
        username=request.user.get_username(),
        range=header,
    )
    if wanted == (-1, -1):
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    start, end = wanted if wanted else (0, size - 1)
    streamed = StreamingHttpResponse(
        _stream(recording, start, end - start + 1),
        status=206 if wanted else 200,
        content_type="audio/wav",
    )
    streamed["Content-Length"] = str(end - start + 1)
    streamed["Accept-Ranges"] = "bytes"
    if wanted:
        streamed["Content-Range"] = f"bytes {start}-{end}/{size}"
    streamed["Cache-Control"] = "private, no-store"
    streamed["Content-Disposition"] = f'inline; filename="{call_sid}.wav"'
    return streamed
