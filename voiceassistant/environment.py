"""Typed reading of environment variables that collects problems instead of raising.

``settings.py`` reads every variable through one ``Environment``. A value that
cannot be used (``CONN_MAX_AGE=abc``, ``DATABASE_URL=postgres//nohost``) is recorded
as a ``Problem`` naming the variable, what is wrong and an example of a good value,
and the default is used in its place; ``voiceassistant.checks`` reports each problem
as a system check error, so ``manage.py check``, ``migrate``, ``runserver`` and
``serve`` print one line per mistake and refuse to start, instead of a traceback from
deep inside Django while settings load.

Variables that were renamed are read under their old name too (for one release)
and recorded as a ``Renamed`` for the check that warns about them.
"""

from __future__ import annotations

import math
import os
import urllib.parse
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import environ

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class Problem:
    """A variable whose value cannot be used."""

    variable: str
    wrong: str
    example: str

    @property
    def message(self) -> str:
        return (
            f"{self.variable} {self.wrong}; for example {self.variable}={self.example}"
        )


@dataclass(frozen=True)
class Renamed:
    """A variable set under the name it had before a rename."""

    old: str
    new: str
    # Both names were set: the new one was used and the old one ignored.
    both: bool = False


@dataclass
class Environment:
    """Reads variables from ``source`` (default: ``os.environ``).

    An empty value counts as unset everywhere, so ``.env.example``'s empty lines
    (``REDIS_URL=``) and the Makefile's ``DATABASE_URL=`` mean "the default".
    """

    source: Mapping[str, str] = field(default_factory=lambda: os.environ)
    problems: list[Problem] = field(default_factory=list)
    renamed: list[Renamed] = field(default_factory=list)

    def raw(self, name: str, *, old: str | None = None) -> str | None:
        """The variable's value, or None when unset or empty."""
        return self._get(name, old)[1]

    def _get(self, name: str, old: str | None) -> tuple[str, str | None]:
        """(the name the value was read under, the value or None)."""
        value = self.source.get(name, "").strip()
        if old is not None:
            old_value = self.source.get(old, "").strip()
            if old_value:
                self.renamed.append(Renamed(old=old, new=name, both=bool(value)))
                if not value:
                    return old, old_value
        return name, value or None

    def problem(self, variable: str, wrong: str, example: str) -> None:
        self.problems.append(Problem(variable, wrong, example))

    def text(self, name: str, default: str = "", *, old: str | None = None) -> str:
        value = self.raw(name, old=old)
        return default if value is None else value

    def flag(
        self,
        name: str,
        default: bool,
        *,
        old: str | None = None,
        invalid: bool | None = None,
    ) -> bool:
        """true/false, yes/no, on/off or 1/0; ``invalid`` is used for anything else
        (default: ``default``), e.g. False where guessing True would be unsafe."""
        variable, value = self._get(name, old)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        self.problem(
            variable, f"is {value!r}, not true or false", "true" if default else "false"
        )
        return default if invalid is None else invalid

    def integer(
        self,
        name: str,
        default: int,
        *,
        minimum: int | None = 0,
        example: int | None = None,
        old: str | None = None,
    ) -> int:
        variable, value = self._get(name, old)
        if value is None:
            return default
        number = self._int(variable, value, minimum, example or default or 1)
        return default if number is None else number

    def optional_integer(
        self, name: str, *, minimum: int | None = 0, example: int = 30
    ) -> int | None:
        """A whole number, or None when unset."""
        value = self.raw(name)
        if value is None:
            return None
        return self._int(name, value, minimum, example)

    def _int(
        self, name: str, value: str, minimum: int | None, example: int
    ) -> int | None:
        """The number, or None (and a problem recorded) when it cannot be used."""
        try:
            number = int(value)
        except ValueError:
            self.problem(name, f"is {value!r}, not a whole number", str(example))
            return None
        if minimum is not None and number < minimum:
            self.problem(
                name, f"is {number}, below its minimum {minimum}", str(example)
            )
            return None
        return number

    def number(
        self,
        name: str,
        default: float,
        *,
        minimum: float | None = 0.0,
        old: str | None = None,
    ) -> float:
        variable, value = self._get(name, old)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            self.problem(variable, f"is {value!r}, not a number", f"{default:g}")
            return default
        if minimum is not None and number < minimum:
            self.problem(
                variable, f"is {value}, below its minimum {minimum:g}", f"{default:g}"
            )
            return default
        return number

    def items(self, name: str, default: Iterable[str]) -> list[str]:
        """Comma-separated values (spaces around each are dropped)."""
        value = self.raw(name)
        if value is None:
            return list(default)
        return [item.strip() for item in value.split(",") if item.strip()]

    def choice(
        self,
        name: str,
        choices: tuple[str, ...],
        default: str,
        *,
        old: str | None = None,
    ) -> str:
        variable, value = self._get(name, old)
        if value is None:
            return default
        if value not in choices:
            self.problem(
                variable,
                f"is {value!r}; it takes " + ", ".join(choices),
                default,
            )
            return default
        return value

    def url(
        self, name: str, default: str, *, schemes: tuple[str, ...], example: str
    ) -> str:
        """A URL whose scheme is one of ``schemes`` and which names a host."""
        value = self.raw(name)
        if value is None:
            return default
        parts = urllib.parse.urlsplit(value)
        if parts.scheme not in schemes:
            self.problem(
                name,
                f"is {value!r}, which does not start with "
                + " or ".join(f"{scheme}://" for scheme in schemes),
                example,
            )
        elif not parts.hostname and not parts.path.strip("/"):
            self.problem(name, f"is {value!r}, which names no host", example)
        return value

    def database(self, name: str, default: str, *, example: str) -> dict[str, Any]:
        """Django's DATABASES entry from a URL such as postgres://user:pw@host/db.

        A URL Django cannot use gives the ``dummy`` backend, which refuses every
        query, so a server started without its checks still cannot write to a
        database nobody meant.
        """
        value = self.raw(name) or default
        scheme = urllib.parse.urlsplit(value).scheme
        if scheme not in environ.Env.DB_SCHEMES:
            self.problem(
                name,
                f"is {value!r}, which does not start with a database scheme "
                "(postgres://, sqlite:///)",
                example,
            )
            return {"ENGINE": "django.db.backends.dummy"}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                config: dict[str, Any] = dict(environ.Env.db_url_config(value))
        except Exception as exc:  # django-environ raises several kinds on bad URLs
            self.problem(name, f"is {value!r}, which cannot be read ({exc})", example)
            return {"ENGINE": "django.db.backends.dummy"}
        if not config.get("ENGINE") or not config.get("NAME"):
            self.problem(name, f"is {value!r}, which names no database", example)
            return {"ENGINE": "django.db.backends.dummy"}
        return config
