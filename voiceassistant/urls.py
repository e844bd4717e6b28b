from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from voiceassistant import health

# The admin says what it administers (and templates/admin/base_site.html adds
# the product's icon).
admin.site.site_header = "Voice assistants administration"
admin.site.site_title = "Voice assistants admin"
admin.site.index_title = "Assistants, numbers and calls"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="calls:list", permanent=False)),
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # The product's own sign-in, for staff and non-staff alike (templates in
    # templates/registration/); what a user may see is up to their permissions.
    # Logged-in users see the form too, to log in as someone else.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("", include("calls.urls")),
]
