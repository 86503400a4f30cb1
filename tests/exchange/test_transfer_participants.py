"""Participants beyond the leagues: the reserve (operated by the regulator), other provinces."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from exchange.errors import Conflict, Forbidden
from exchange.models import ParticipantKind, Region
from exchange.services.ledger_ops import verify
from exchange.services.participants import (
    RegisterParticipant,
    cross_border,
    region_total,
    register_participant,
)
from exchange.uow import unit_of_work
from tests.exchange.transfer_helpers import (
    FAMILY,
    REG_A,
    REG_B,
    act,
    allocate_water,
    fund_cash,
    league,
    propose,
    roll,
    water,
    year_market,
)

Q = 100_000


def _participant(session: Session, code: str, kind: ParticipantKind, province: str | None) -> None:
    with unit_of_work(session):
        register_participant(
            session,
            RegisterParticipant(
                code, f"{code}中文", code.title(), kind, Region.WEST, province, ("yellow",),
                (FAMILY,),
            ),
        )  # fmt: skip


def test_the_regulator_operates_the_reserve_which_buys_idle_quota(
    demo_registry: Flask, session: Session
) -> None:
    year_market(session, 2027)
    _participant(session, "reserve", ParticipantKind.RESERVE, None)
    allocate_water(session, "bayannur", 2027, Q)
    fund_cash(session, "reserve", 10**9)
    with pytest.raises(Forbidden):  # a league does not act for the reserve
        propose(session, seller="bayannur", buyer="reserve", by="ordos", first=2027, last=2027)
    with unit_of_work(session):
        from exchange.services import transfers

        transfer, _ = transfers.propose(
            session,
            transfers.ProposeTransfer(
                FAMILY, "bayannur", "reserve", Q, 2027, 2027, 80, transfers.Payment.YEARLY, "r-1"
            ),
            REG_A,
        )
        tid = transfer.id
    assert act(session, "accept", tid, league("bayannur")) == "accepted"
    act(session, "review", tid, REG_A)  # the same regulator proposed and reviews ...
    with pytest.raises(Forbidden):
        act(session, "approve", tid, REG_A)  # ... but cannot also approve
    assert act(session, "approve", tid, REG_B) == "active"
    roll(session, "2027-01-01")
    assert water(session, "reserve", 2027) == Q
    assert verify(session).ok


def test_imports_from_another_province_never_take_the_region_above_its_total(
    demo_registry: Flask, session: Session
) -> None:
    market = year_market(session, 2029)  # shared with other provinces: cap 1e10
    _participant(session, "ningdong", ParticipantKind.EXTERNAL, "Ningxia")
    allocate_water(session, "ordos", 2029, 5_860_000_000 - 50_000)  # the region's total, nearly
    allocate_water(session, "ningdong", 2029, 1_000_000)  # Ningxia's own water
    fund_cash(session, "ordos", 10**9)
    assert region_total(session, market) == 5_860_000_000 - 50_000
    big = propose(session, seller="ningdong", buyer="ordos", first=2029, last=2029, ref="big")
    with pytest.raises(Conflict) as refused:
        act(session, "accept", big, league("ningdong"))
    assert refused.value.code == "region_total_exceeded"
    small = propose(
        session, seller="ningdong", buyer="ordos", quantity=50_000, first=2029, last=2029,
        ref="small",
    )  # fmt: skip
    act(session, "accept", small, league("ningdong"))
    act(session, "review", small, REG_A)
    act(session, "approve", small, REG_B)
    roll(session, "2029-01-01")
    assert region_total(session, market) == 5_860_000_000
    # an export frees room again (Ningdong pays with what it was paid)
    out = propose(session, seller="ordos", buyer="ningdong", quantity=10_000, first=2029,
                  last=2029, ref="out", by="ordos")  # fmt: skip
    assert act(session, "accept", out, league("ningdong")) == "accepted"
    assert verify(session).ok


def test_the_public_report_shows_imports_and_exports(
    demo_registry: Flask, session: Session
) -> None:
    """Delivered volumes between the region and another province, against the total."""
    market = year_market(session, 2029)
    _participant(session, "ningdong", ParticipantKind.EXTERNAL, "Ningxia")
    allocate_water(session, "ordos", 2029, 1_000_000)
    allocate_water(session, "ningdong", 2029, 1_000_000)
    fund_cash(session, "ordos", 10**9)
    fund_cash(session, "ningdong", 10**9)
    moves = (
        ("ningdong", "ordos", 50_000, "in", "ningdong"),
        ("ordos", "ningdong", 20_000, "out", "ordos"),
    )
    for seller, buyer, quantity, ref, by in moves:
        made = propose(session, seller=seller, buyer=buyer, quantity=quantity, first=2029,
                       last=2029, ref=ref, by=by)  # fmt: skip
        counterparty = buyer if by == seller else seller
        act(session, "accept", made, league(counterparty))
        act(session, "review", made, REG_A)
        act(session, "approve", made, REG_B)
    roll(session, "2029-01-01")
    rows = {r["market"]: r for r in cross_border(session)}
    row = rows[market.code]
    assert (row["imported"], row["exported"]) == (50_000, 20_000)
    assert row["held"] == region_total(session, market) and row["limit"] == 5_860_000_000
    page = demo_registry.test_client().get("/transfers").get_data(as_text=True)
    assert 'id="cross-border"' in page and "50,000" in page and "20,000" in page
