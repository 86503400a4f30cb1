"""Unified social credit codes: the GB 32100-2015 check character."""

from __future__ import annotations

import pytest

from exchange.services import credit_code

# Published codes of real companies (their check characters are public knowledge).
REAL = ("91350100M000100Y43", "91110000600037341L", "911100001000128855")


@pytest.mark.parametrize("code", [*REAL, "91150600MA0N00001W", "52150800MJ00000010"])
def test_valid_codes(code: str) -> None:
    assert credit_code.is_valid(code)
    assert credit_code.problem(code) is None


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("91350100M000100Y44", "check character"),
        ("91350100M000100Y4", "18 characters"),
        ("91350100M000100Y433", "18 characters"),
        ("91350100I000100Y43", "code: I"),
        ("91350100m000100Y43", "code: m"),
        ("", "18 characters"),
    ],
)
def test_invalid_codes(code: str, why: str) -> None:
    problem = credit_code.problem(code)
    assert problem is not None and why in problem


def test_check_character_maps_31_to_0() -> None:
    # a body whose weighted sum is a multiple of 31 takes the check character 0
    body = "91150600MA0N00002"
    assert credit_code.check_character(body) == "0"
    assert credit_code.is_valid(body + "0")
