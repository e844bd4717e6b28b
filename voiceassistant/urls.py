from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from voiceassistant import health

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="calls:list", permanent=False)),
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("calls.urls")),
]
