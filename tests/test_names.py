"""File names are checked before any I/O, whatever their percent-encoding."""

from __future__ import annotations

import pytest

from tracking.errors import ValidationError
from tracking.names import check_experiment_name, check_file_name

# The traversal corpus of MLflow's CVE history, and the portal issue's list.
HOSTILE = [
    "../etc/passwd",
    "..",
    "a/../../b",
    "..%2fsecret",
    "%2e%2e/secret",
    "%252e%252e%252fsecret",
    "..\\secret",
    "a\\b",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "C:\\Windows\\win.ini",
    "C:/Windows/win.ini",
    "~/x",
    "model#1.pkl",
    "model;rm.pkl",
    "model?x=../a",
    "bad\x00name",
    "bad\nname",
    "bad%00name",
    "a//b",
    "./a",
    "",
]


@pytest.mark.reliability(
    case=7,
    fault="hostile file names given to the name check that every entry point calls first",
    expected="each rejected with ValidationError",
)
@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_file_names_are_rejected(name: str) -> None:
    with pytest.raises(ValidationError, match="is not accepted"):
        check_file_name(name)


@pytest.mark.parametrize(
    "name", ["model_alpha_0.1.pkl", "outputs/model.pkl", "a b/c-d_e.f", "ünïcode.txt", "x..y"]
)
def test_ordinary_file_names_pass(name: str) -> None:
    assert check_file_name(name) == name


@pytest.mark.parametrize("name", ["", "-x", "a/b", "a..b", "x" * 256, 3, "semi;colon"])
def test_bad_experiment_names_are_rejected(name: object) -> None:
    with pytest.raises(ValidationError, match="experiment name"):
        check_experiment_name(name)


def test_tutorial_experiment_name_passes() -> None:
    assert check_experiment_name("diabetes-experiment") == "diabetes-experiment"


@pytest.mark.parametrize("char", [*map(chr, range(0x20)), "\x7f", "\u00ad", "\u2028", "\u2029"])
def test_every_control_format_or_separator_character_is_refused(char: str) -> None:
    from tracking.names import check_key

    for text in (f"model{char}.pkl", f"mod\u00e9le{char}.pkl"):  # an ASCII name, and not
        with pytest.raises(ValidationError, match="control characters"):
            check_file_name(text)
        with pytest.raises(ValidationError, match="printable characters"):
            check_key("metric", text)


def test_printable_ascii_is_not_taken_for_control_characters() -> None:
    from tracking.names import check_key

    for char in map(chr, range(0x20, 0x7F)):
        assert check_key("metric", f"a{char}b") == f"a{char}b"
