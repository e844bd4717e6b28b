from __future__ import annotations

from django.urls import path

from calls.review import control_views, recording_views, timezones, views
from calls.telephony.webhooks import views as webhooks

app_name = "calls"

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
    path("calls/<str:call_sid>/", views.call_detail, name="detail"),
    path("calls/<str:call_sid>/hangup/", control_views.hang_up, name="hangup"),
    path("calls/<str:call_sid>/transfer/", control_views.transfer, name="transfer"),
    path(
        "calls/<str:call_sid>/recording.wav",
        recording_views.recording_audio,
        name="recording",
    ),
    path(
        "calls/<str:call_sid>/transcript.<str:fmt>",
        views.call_transcript_download,
        name="transcript_download",
    ),
]
