"""calls.privacy.redaction: what is replaced, and what must be left alone."""

from __future__ import annotations

import time

import pytest

from assistants.redaction_names import REDACTION_KINDS
from calls.privacy.redaction import PLACEHOLDERS, redact

ALL = REDACTION_KINDS


def test_it_has_a_placeholder_for_every_kind_the_assistants_accept() -> None:
    assert set(PLACEHOLDERS) == set(REDACTION_KINDS)


def test_it_leaves_text_alone_without_kinds() -> None:
    text = "card 4111 1111 1111 1111, mail jane@example.com"
    assert redact(text, ()) == text
    assert redact(text, ["no_such_kind"]) == text


def test_it_redacts_only_the_kinds_asked_for() -> None:
    text = "card 4111 1111 1111 1111, mail jane@example.com"
    assert redact(text, ["email"]) == "card 4111 1111 1111 1111, mail [email]"
    assert redact(text, ["card_number"]) == "card [card number], mail jane@example.com"


# -- card numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4111111111111111", "[card number]"),
        ("my card is 4111 1111 1111 1111.", "my card is [card number]."),
        ("it's 4111-1111-1111-1111 ok", "it's [card number] ok"),
        ("5555 5555 5555 4444", "[card number]"),
        # Amex, 15 digits grouped 4-6-5.
        ("3782 822463 10005", "[card number]"),
        # Spoken digit by digit.
        (
            "four one one one one one one one one one one one one one one one",
            "[card number]",
        ),
        # Spoken in groups with commas, as speech-to-text punctuates pauses.
        ("4111, 1111, 1111, 1111", "[card number]"),
        # Expiry after the number: the card is still found.
        (
            "4111 1111 1111 1111 expiring 12 28",
            "[card number] expiring 12 28",
        ),
        ("4111 1111 1111 1111 12 28", "[card number] 12 28"),
    ],
)
def test_it_redacts_card_numbers(text: str, expected: str) -> None:
    assert redact(text, ["card_number"]) == expected


@pytest.mark.parametrize(
    "text",
    [
        # Sixteen digits failing Luhn.
        "1234 5678 1234 5678",
        "4111111111111112",
        # Order, tracking and short numbers.
        "order number 1234567890",
        "tracking 9400 1000 0000",
        "it costs $1,299.99",
        "meet on 2026-12-02 at 10:30",
        "between 12/02/2026 and 12/09/2026",
        "room 4111",
        # Unrelated numbers in a row: some span passes Luhn, but not card-like.
        "the scores were 12 15 18 22 30 41 55 60",
        "rooms 101 204 305 406 507 608",
    ],
)
def test_it_leaves_non_card_numbers_alone(text: str) -> None:
    assert redact(text, ["card_number"]) == text


def test_it_does_not_find_cards_inside_a_long_read_out_of_digits() -> None:
    # Any 13-19 digits of it would pass Luhn one time in ten.
    text = "one two three four five six seven eight nine " * 5
    assert redact(text, ["card_number", "phone_number"]) == text


def test_it_stays_fast_on_a_long_run_of_numbers() -> None:
    text = "one two three four five six seven eight nine " * 100 + "12 " * 300
    started = time.perf_counter()
    redact(text, ALL)
    assert time.perf_counter() - started < 2.0


# -- US social security numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ssn 123-45-6789", "ssn [ssn]"),
        ("it is 123 45 6789 thanks", "it is [ssn] thanks"),
        ("536-90-4399", "[ssn]"),
    ],
)
def test_it_redacts_ssns(text: str, expected: str) -> None:
    assert redact(text, ["ssn"]) == expected


@pytest.mark.parametrize(
    "text",
    [
        "000-12-3456",  # area 000
        "666-12-3456",  # area 666
        "912-34-5678",  # 9xx area (ITINs)
        "123-00-4567",  # group 00
        "123-45-0000",  # serial 0000
        "123456789",  # bare nine digits: could be anything
        "12-345-6789",  # wrong grouping
        "2026-12-02",
    ],
)
def test_it_leaves_invalid_ssns_alone(text: str) -> None:
    assert redact(text, ["ssn"]) == text


# -- email


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail jane@example.com please", "mail [email] please"),
        ("jane.doe+news@mail.example.co.uk.", "[email]."),
        ("J_Doe-99@Example.ORG", "[email]"),
        ("(jane@example.com)", "([email])"),
        ("jane dot doe at example dot com", "[email]"),
        ("it's jdoe at gmail dot com thanks", "it's [email] thanks"),
    ],
)
def test_it_redacts_emails(text: str, expected: str) -> None:
    assert redact(text, ["email"]) == expected


@pytest.mark.parametrize(
    "text",
    [
        "see you at noon",
        "we're at the office dot",
        "user@localhost",
        "price @ 5 dollars",
    ],
)
def test_it_leaves_non_emails_alone(text: str) -> None:
    assert redact(text, ["email"]) == text


# -- phone numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call +15551234567", "call [phone number]"),
        ("call +1 555 123 4567 now", "call [phone number] now"),
        ("+44 20 7946 0958", "[phone number]"),
        ("(555) 123-4567", "[phone number]"),
        ("555-123-4567", "[phone number]"),
        ("555.123.4567", "[phone number]"),
        ("1 555 123 4567", "[phone number]"),
        ("020 7946 0958", "[phone number]"),
        ("06 12 34 56 78", "[phone number]"),
        ("five five five one two three four five six seven", "[phone number]"),
        ("plus one five five five one two three four five six seven", "[phone number]"),
    ],
)
def test_it_redacts_phone_numbers(text: str, expected: str) -> None:
    assert redact(text, ["phone_number"]) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order number 1234567890",
        "it costs 1,299.99",
        "at 10:30:15",
        "on 2026-12-02",
        "two or three",
        "I need two three four items",
        "version 1.2.3",
        "12 28",
    ],
)
def test_it_leaves_non_phone_numbers_alone(text: str) -> None:
    assert redact(text, ["phone_number"]) == text


# -- IBAN


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DE89370400440532013000", "[iban]"),
        ("my iban is DE89 3704 0044 0532 0130 00 thanks", "my iban is [iban] thanks"),
        ("gb82 west 1234 5698 7654 32", "[iban]"),
    ],
)
def test_it_redacts_ibans(text: str, expected: str) -> None:
    assert redact(text, ["iban"]) == expected


@pytest.mark.parametrize(
    "text",
    [
        "DE88370400440532013000",  # wrong check digits
        "DE8937040044053201300",  # one digit short for Germany
        "AB12 CDEF GHIJ KLMN",
    ],
)
def test_it_leaves_invalid_ibans_alone(text: str) -> None:
    assert redact(text, ["iban"]) == text


# -- IP addresses


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("from 192.168.1.20 today", "from [ip address] today"),
        ("fe80::1ff:fe23:4567:890a", "[ip address]"),
        ("2001:db8::1", "[ip address]"),
    ],
)
def test_it_redacts_ip_addresses(text: str, expected: str) -> None:
    assert redact(text, ["ip_address"]) == expected


@pytest.mark.parametrize("text", ["999.1.1.1", "at 10:30", "at 10:30:15", "1.2.3"])
def test_it_leaves_non_ip_addresses_alone(text: str) -> None:
    assert redact(text, ["ip_address"]) == text


# -- all together


def test_it_redacts_several_kinds_in_one_line() -> None:
    text = (
        "I'm jane@example.com, card 4111 1111 1111 1111, ssn 123-45-6789, "
        "call (555) 123-4567, order 1234567890 on 2026-12-02 at 10:30."
    )
    assert redact(text, ALL) == (
        "I'm [email], card [card number], ssn [ssn], "
        "call [phone number], order 1234567890 on 2026-12-02 at 10:30."
    )


def test_it_keeps_the_digits_of_an_email_out_of_the_phone_detector() -> None:
    assert redact("5551234567@example.com", ALL) == "[email]"
