import pytest

from qrun.errors import DurationError
from qrun.model import durations


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("45s", 45),
        ("25m", 1500),
        ("2h 30m 40s", 9040),
        ("1d", 86400),
        ("1d 1s", 86401),
        (90, 90),
        ("0h 5m", 300),
    ],
)
def test_parse_accepts(text, seconds):
    assert durations.parse(text) == seconds


HELP = "use whole seconds (e.g. 90) or parts like 45s, 25m, 2h 30m 40s (units d h m s, in that order)"


@pytest.mark.parametrize(
    "text, message",
    [
        # written as people write them: the same duration in qrun's form
        ("1.5h", "'1.5h' is not a duration: write '1h 30m'"),
        ("1h30", "'1h30' is not a duration: write '1h 30m'"),  # a bare number after a unit: the next smaller one
        ("1h30m", "'1h30m' is not a duration: write '1h 30m'"),
        ("2 hours", "'2 hours' is not a duration: write '2h'"),
        ("90min", "'90min' is not a duration: write '1h 30m'"),
        ("10 minutes 5", "'10 minutes 5' is not a duration: write '10m 5s'"),
        ("1m30s5", f"'1m30s5' is not a duration: {HELP}"),  # nothing after seconds
        ("0.5s", f"'0.5s' is not a duration: {HELP}"),  # not whole seconds
        ("2 fortnights", f"'2 fortnights' is not a duration: {HELP}"),
        ("-5m", f"'-5m' is not a duration: {HELP}"),
        ("0s", "'0s' is not a duration: it must be at least 1 second"),
        (0, "0 is not a duration: it must be at least 1 second"),
        ("30m 1h", "'30m 1h' is not a duration: units must appear once each, in the order d h m s"),
        ("5m 5m", "'5m 5m' is not a duration: units must appear once each, in the order d h m s"),
        ("1h  2m", "'1h  2m' is not a duration: write '1h 2m'"),
        (True, f"True is not a duration: {HELP}"),
        (1.5, f"1.5 is not a duration: {HELP}"),
    ],
)
def test_parse_refuses_with_a_message_that_says_what_is_accepted(text, message):
    with pytest.raises(DurationError) as e:
        durations.parse(text)
    assert str(e.value) == message


@pytest.mark.parametrize(
    "seconds, text", [(9040, "2h 30m 40s"), (60, "1m"), (0, "0s"), (0.3, "<1s"), (86461, "1d 1m 1s"), (59.6, "1m")]
)
def test_format_round_trips(seconds, text):
    assert durations.format(seconds) == text
    if seconds >= 1:
        assert durations.parse(text) == round(seconds)


def test_schema_pattern_agrees_with_the_parser():
    import re

    from qrun.spec.schema import schema

    pattern = schema()["$defs"]["duration"]["oneOf"][1]["pattern"]
    for text in [
        "45s",
        "25m",
        "2h 30m 40s",
        "1d 2s",
        "1.5h",
        "1h30",
        "90min",
        "-5m",
        "0s",
        "30m 1h",
        "5m ",
        "",
        "0h 0m",
    ]:
        try:
            durations.parse(text)
            ok = True
        except DurationError:
            ok = False
        assert bool(re.search(pattern, text)) == ok, text
