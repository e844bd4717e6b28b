"""System checks for the settings: one line per problem, naming the variable.

Registered by ``voiceassistant.apps``; Django runs them before ``check``,
``migrate``, ``runserver`` and ``serve`` (so before ``make run`` and the production
server start) and stops on an error.

- ``voiceassistant.E001``: a variable's value cannot be used (collected while the
  settings loaded: ``voiceassistant.environment``).
- ``voiceassistant.E002``: DEBUG is off and ALLOWED_HOSTS is empty, so every
  request would be refused.
- ``voiceassistant.E003``: TRANSFER_ALLOWED_PREFIXES holds an entry that is not
  an E.164 prefix.
- ``voiceassistant.W001``: a variable is set under its old name.
- ``voiceassistant.W002``: the deprecated REALTIME_PROVIDER is set.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from calls.services.transfer_policy import bad_prefixes
from voiceassistant.environment import Problem, Renamed

TAG = "settings"


@register(TAG)
def check_environment_values(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    problems: tuple[Problem, ...] = settings.ENVIRONMENT_PROBLEMS
    return [Error(problem.message, id="voiceassistant.E001") for problem in problems]


@register(TAG)
def check_allowed_hosts(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG or settings.ALLOWED_HOSTS:
        return []
    host = urlsplit(settings.PUBLIC_BASE_URL).hostname or "voice.example.com"
    return [
        Error(
            "ALLOWED_HOSTS is empty and DEBUG is off, so every request (/healthz "
            "included) would be refused with 400; set the host names this server "
            f"answers to, for example ALLOWED_HOSTS={host}",
            id="voiceassistant.E002",
        )
    ]


@register(TAG)
def check_transfer_prefixes(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    bad = bad_prefixes(settings.TRANSFER_ALLOWED_PREFIXES)
    if not bad:
        return []
    return [
        Error(
            f"TRANSFER_ALLOWED_PREFIXES has {', '.join(repr(b) for b in bad)}, which "
            "is not an E.164 prefix (a plus sign and up to 15 digits); for example "
            "TRANSFER_ALLOWED_PREFIXES=+1555,+44",
            id="voiceassistant.E003",
        )
    ]


@register(TAG)
def check_renamed_variables(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    renamed: tuple[Renamed, ...] = settings.ENVIRONMENT_RENAMED
    return [
        Warning(_renamed_message(item), id="voiceassistant.W001") for item in renamed
    ]


def _renamed_message(item: Renamed) -> str:
    if item.both:
        return (
            f"{item.old} is ignored: it was renamed {item.new}, which is set too; "
            f"remove {item.old}"
        )
    return (
        f"{item.old} was renamed {item.new} (it applies to every engine); the old "
        f"name is read for this release only: rename it to {item.new}"
    )


@register(TAG)
def check_realtime_provider(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    if not settings.REALTIME_PROVIDER:
        return []
    return [
        Warning(
            f"REALTIME_PROVIDER={settings.REALTIME_PROVIDER} is deprecated: choose "
            "the engine on each assistant instead (engine azure-realtime with "
            "AZURE_OPENAI_API_KEY and AZURE_OPENAI_REALTIME_URL for Azure), then "
            "remove REALTIME_PROVIDER",
            id="voiceassistant.W002",
        )
    ]
