"""Which replies to a marketing text opt the number out, back in, or change nothing."""

from __future__ import annotations

import pytest

from rightful.consent.sms import Keyword, classify, confirmation


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        " Stop. ",
        "Quit",
        "END",
        "revoke",
        "Opt out",
        "OPT-OUT",
        "cancel",
        "Unsubscribe!",
        "STOPALL",
        "stop all",
    ],
)
def test_every_opt_out_word_of_the_fcc_rule_opts_out(text: str) -> None:
    assert classify(text) == Keyword.STOP


@pytest.mark.parametrize("text", ["START", "unstop", "Start!"])
def test_start_opts_back_in(text: str) -> None:
    assert classify(text) == Keyword.START


@pytest.mark.parametrize(
    "text",
    [
        "",
        "thanks",
        "don't stop",
        "stop sending me these please, I have asked twice already now",
        "stopp",
        "yes",
    ],
)
def test_other_replies_change_nothing(text: str) -> None:
    assert classify(text) == Keyword.OTHER
    assert confirmation(classify(text), "Lumen", "privacy@lumen.example") is None


def test_the_confirmation_says_what_happened_and_how_to_undo_it() -> None:
    stop = confirmation(Keyword.STOP, "Lumen", "privacy@lumen.example")
    assert stop is not None and "no more marketing texts" in stop and "START" in stop
    help_text = confirmation(Keyword.HELP, "Lumen", "privacy@lumen.example")
    assert help_text is not None and "privacy@lumen.example" in help_text
