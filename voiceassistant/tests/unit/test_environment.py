"""voiceassistant.environment: typed reads that record problems instead of raising."""

from __future__ import annotations

import pytest

from voiceassistant.environment import Environment, Problem, Renamed


def reader(**values: str) -> Environment:
    return Environment(source=values)


def test_unset_and_empty_values_give_the_default() -> None:
    env = reader(EMPTY="", SPACES="  ")
    assert env.text("UNSET", default="x") == "x"
    assert env.integer("EMPTY", default=3) == 3
    assert env.flag("SPACES", default=True) is True
    assert env.problems == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("Yes", True), ("1", True), ("off", False), ("FALSE", False)],
)
def test_flags_take_the_usual_spellings(value: str, expected: bool) -> None:
    assert reader(FLAG=value).flag("FLAG", default=not expected) is expected


def test_a_misspelt_flag_is_a_problem_not_false() -> None:
    env = reader(DEBUG="flase")
    assert env.flag("DEBUG", default=True, invalid=False) is False
    assert env.problems == [Problem("DEBUG", "is 'flase', not true or false", "true")]
    assert env.problems[0].message == (
        "DEBUG is 'flase', not true or false; for example DEBUG=true"
    )


def test_numbers_that_cannot_be_read_name_the_variable() -> None:
    env = reader(CONN_MAX_AGE="abc", PRICE="cheap", NEGATIVE="-1", INF="inf")
    assert env.integer("CONN_MAX_AGE", default=60) == 60
    assert env.number("PRICE", default=4.0) == 4.0
    assert env.integer("NEGATIVE", default=5) == 5
    assert env.number("INF", default=1.5) == 1.5
    assert [problem.message for problem in env.problems] == [
        "CONN_MAX_AGE is 'abc', not a whole number; for example CONN_MAX_AGE=60",
        "PRICE is 'cheap', not a number; for example PRICE=4",
        "NEGATIVE is -1, below its minimum 0; for example NEGATIVE=5",
        "INF is 'inf', not a number; for example INF=1.5",
    ]


def test_an_optional_number_is_none_when_unset() -> None:
    env = reader(DAYS="30")
    assert env.optional_integer("DAYS") == 30
    assert env.optional_integer("OTHER") is None


def test_a_choice_outside_its_values_is_a_problem() -> None:
    env = reader(CODEC="mp3")
    assert env.choice("CODEC", ("mulaw", "pcm16"), default="mulaw") == "mulaw"
    assert env.problems[0].message == (
        "CODEC is 'mp3'; it takes mulaw, pcm16; for example CODEC=mulaw"
    )


def test_a_url_needs_its_scheme() -> None:
    env = reader(REDIS_URL="localhost:6379", GOOD="redis://127.0.0.1:6379/0")
    schemes = ("redis", "rediss", "unix")
    example = "redis://127.0.0.1:6379/0"
    env.url("REDIS_URL", "", schemes=schemes, example=example)
    assert env.url("GOOD", "", schemes=schemes, example=example) == example
    assert len(env.problems) == 1
    assert env.problems[0].variable == "REDIS_URL"
    assert "redis://" in env.problems[0].wrong


def test_a_database_url_without_a_scheme_gives_a_backend_that_refuses_queries() -> None:
    env = reader(DATABASE_URL="postgres//nohost")
    config = env.database("DATABASE_URL", "sqlite:///db", example="postgres://h/db")
    assert config == {"ENGINE": "django.db.backends.dummy"}
    assert env.problems[0].variable == "DATABASE_URL"
    assert env.problems[0].example == "postgres://h/db"


def test_a_good_database_url_is_read() -> None:
    env = reader(DATABASE_URL="postgres://voice:pw@db:5432/voice")
    config = env.database("DATABASE_URL", "sqlite:///db", example="x")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["NAME"]) == ("db", "voice")
    assert env.problems == []


def test_an_old_name_is_read_and_recorded() -> None:
    env = reader(REALTIME_CONNECT_TIMEOUT="3")
    value = env.number(
        "ENGINE_CONNECT_TIMEOUT", default=10.0, old="REALTIME_CONNECT_TIMEOUT"
    )
    assert value == 3.0
    assert env.renamed == [
        Renamed(old="REALTIME_CONNECT_TIMEOUT", new="ENGINE_CONNECT_TIMEOUT")
    ]


def test_the_new_name_wins_over_the_old_one() -> None:
    env = reader(ENGINE_WS_CLIENT="websockets", REALTIME_WS_CLIENT="picows")
    choices = ("auto", "websockets", "picows")
    value = env.choice("ENGINE_WS_CLIENT", choices, "auto", old="REALTIME_WS_CLIENT")
    assert value == "websockets"
    assert env.renamed == [
        Renamed(old="REALTIME_WS_CLIENT", new="ENGINE_WS_CLIENT", both=True)
    ]


def test_a_bad_value_under_the_old_name_is_reported_under_it() -> None:
    env = reader(REALTIME_CONNECT_ON_UPGRADE="maybe")
    env.flag("ENGINE_CONNECT_ON_UPGRADE", True, old="REALTIME_CONNECT_ON_UPGRADE")
    assert env.problems[0].variable == "REALTIME_CONNECT_ON_UPGRADE"
