"""The audit page's date filters: date pickers, read as Beijing dates (the end inclusive),
typed values kept, a bad date explained in the page's language; journals newest first."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import Flask

from exchange.schedule import EXCHANGE_TZ
from exchange.web.audit import _parse_time
from tests.exchange import test_pages_flows
from tests.exchange.page_helpers import login

world = test_pages_flows.world  # the fixture of those tests


def test_a_date_is_a_beijing_day() -> None:
    assert _parse_time("2027-03-01") == datetime(2027, 3, 1, tzinfo=EXCHANGE_TZ)
    assert _parse_time("2027-03-01").astimezone(UTC) == datetime(2027, 2, 28, 16, tzinfo=UTC)
    # the end of a range is the whole of that day
    assert _parse_time("2027-03-01", end=True) == datetime(2027, 3, 2, tzinfo=EXCHANGE_TZ)
    assert _parse_time("2027-03-01T10:00") == datetime(2027, 3, 1, 10, tzinfo=EXCHANGE_TZ)
    assert _parse_time("yesterday") is None and _parse_time("  ") is None


def _journal_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-journal="(\d+)"', page)]


def test_the_filters_use_beijing_dates_with_date_pickers(world: Flask) -> None:
    client = world.test_client()
    login(client, "abe")
    today = datetime.now(EXCHANGE_TZ).date()
    page = client.get(f"/audit?since={today}&lang=zh").get_data(as_text=True)
    assert 'type="date"' in page and f'value="{today}"' in page
    assert "北京时间" in page
    shown = _journal_ids(page)
    assert len(shown) > 1 and shown == sorted(shown, reverse=True)  # newest first
    before = today - timedelta(days=1)
    empty = client.get(f"/audit?until={before}&lang=zh").get_data(as_text=True)
    assert f'value="{before}"' in empty and _journal_ids(empty) == []
    bad = client.get("/audit?since=31.12.2027&lang=zh").get_data(as_text=True)
    assert "日期：请用日期选择器，或按 YYYY-MM-DD 填写。" in bad and 'value="31.12.2027"' in bad
