"""Negotiated transfers in Chromium: a league accepts a proposal on its desk, a regulator
reviews it (and may not approve it too), approves another regulator's review, and the
public list shows the approved transfer (issue 13)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_browser_flow import A11Y_SCRIPT, open_session  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow  # a real browser against a live server


def _transfer_block(page: Any, text: str) -> Any:
    return page.locator("div.transfer", has_text=text).first


def _smoke(session: Any, path: str) -> None:
    response = session.goto(path)
    assert response.status == 200, path
    assert session.page.evaluate(A11Y_SCRIPT) == [], path
    session.page.set_viewport_size({"width": 390, "height": 844})
    width = session.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 391, f"{path} scrolls sideways on a phone ({width}px)"
    session.page.set_viewport_size({"width": 1280, "height": 800})


def test_desk_and_console_carry_transfers_through_four_eyes(open_session: Any) -> None:  # noqa: F811
    hohhot = open_session("hohhot")
    _smoke(hohhot, "/desk/transfers")
    block = _transfer_block(hohhot.page, "Baotou")  # the demo's proposal of Baotou to Hohhot
    block.get_by_role("button", name="Accept").click()
    hohhot.page.wait_for_load_state()
    assert "is now accepted" in hohhot.page.inner_text("main")
    hohhot.shot("transfers-01-desk-accepted")

    regulator = open_session("regulator")
    _smoke(regulator, "/regulator/transfers")
    _transfer_block(regulator.page, "Hohhot").get_by_role("button", name="Review").click()
    regulator.page.wait_for_load_state()
    assert "is now reviewed" in regulator.page.inner_text("main")
    reviewed = _transfer_block(regulator.page, "Hohhot")
    assert reviewed.get_by_role("button", name="Approve").count() == 0  # four eyes
    assert "another regulator approves it" in reviewed.inner_text()
    # the demo's Alxa -> Wuhai transfer was reviewed by another regulator: approve it
    _transfer_block(regulator.page, "Alxa").get_by_role("button", name="Approve").click()
    regulator.page.wait_for_load_state()
    assert "is now active" in regulator.page.inner_text("main")
    regulator.shot("transfers-02-console")

    anonymous = open_session(None)
    _smoke(anonymous, "/transfers")
    listed = anonymous.page.inner_text("#public-transfers")
    assert "Alxa" in listed and "Wuhai" in listed
    assert "Hohhot" not in listed  # accepted and reviewed, not approved: not public
    _smoke(anonymous, "/transfers?lang=zh")
    assert "水权协议转让" in anonymous.page.inner_text("main")
