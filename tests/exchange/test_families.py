"""Market families: one right over its vintage markets, named the one way."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from exchange.errors import InvalidInput
from exchange.services import families


def test_demo_markets_fall_in_their_families(demo_registry: Flask, session: Session) -> None:
    yellow = families.family_markets(session, "water:yellow")
    assert yellow, "the demo has Yellow River water markets"
    assert {families.family_of(m) for m in yellow} == {"water:yellow"}
    market = yellow[0]
    assert families.vintage_market(session, "water:yellow", int(market.vintage)) is market
    assert families.vintage_market(session, "water:yellow", 1990) is None


@pytest.mark.parametrize("family", ["gold", "pollutant:lead", "pollutant", ""])
def test_malformed_families_are_refused(family: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        families.check_family(family)
    assert caught.value.field == "market_family"
