from __future__ import annotations

from django.urls import path, register_converter

from calls.review import control_views, recording_views, timezones, views
from calls.telephony.webhooks import views as webhooks

app_name = "calls"


class CallSidConverter:
    """A CallSid's shape in a URL: anything else (a NUL byte, a slash, 200
    characters) is a 404 before any view or query sees it."""

    regex = r"[A-Za-z0-9_-]{1,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CallSidConverter, "callsid")

urlpatterns = [
    # Twilio webhooks (signed; see calls.telephony.account.auth).
    path("twilio/voice/", webhooks.voice, name="voice_webhook"),
    path("twilio/status/", webhooks.status, name="status_callback"),
    path("twilio/stream-ended/", webhooks.stream_ended, name="stream_ended"),
    path("twilio/dial-action/", webhooks.dial_action, name="dial_action"),
    # Staff pages.
    path("calls/", views.call_list, name="list"),
    path("calls/live/", views.live_calls, name="live"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("timezone/", timezones.set_timezone, name="set_timezone"),
    path("calls/<callsid:call_sid>/", views.call_detail, name="detail"),
    path("calls/<callsid:call_sid>/hangup/", control_views.hang_up, name="hangup"),
    path("calls/<callsid:call_sid>/transfer/", control_views.transfer, name="transfer"),
    path(
        "calls/<callsid:call_sid>/recording.wav",
        recording_views.recording_audio,
        name="recording",
    ),
    path(
        "calls/<callsid:call_sid>/transcript.<str:fmt>",
        views.call_transcript_download,
        name="transcript_download",
    ),
]
