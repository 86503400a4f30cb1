"""Helpers of the page tests: users who log in through the form, and an HTML checker."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from flask import Flask
from flask.testing import FlaskClient

from exchange.extensions import db
from exchange.identity import service
from exchange.models import Role
from exchange.uow import new_unit_of_work

PASSWORD = "correct horse battery"


def make_user(app: Flask, username: str, role: Role, league: str | None = None) -> None:
    """A user with the password ``PASSWORD``."""
    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        service.create_user(
            session, username=username, role=role, league_code=league, password=PASSWORD
        )


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="[a-z-]*csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1)


def login(client: FlaskClient, username: str) -> None:
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


class PageChecker(HTMLParser):
    """Accessibility smoke check of one page: labels, alt texts, charts, headings."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.labels: set[str] = set()
        self.inputs: list[tuple[str, str]] = []  # (id, name) needing a label
        self.problems: list[str] = []
        self.headings: list[int] = []
        self.html_lang = False
        self._svg_depth = 0
        self._svg_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.html_lang = bool(a.get("lang"))
        elif tag == "label" and a.get("for"):
            self.labels.add(a["for"])
        elif tag in ("input", "select", "textarea"):
            kind = a.get("type", "").lower()
            named = a.get("aria-label") or a.get("aria-labelledby") or a.get("title")
            if kind not in ("hidden", "submit", "button", "reset", "image") and not named:
                self.inputs.append((a.get("id", ""), a.get("name", "")))
        elif tag == "img" and "alt" not in a:
            self.problems.append(f"img without alt: {a.get('src')}")
        elif tag == "svg" and "chart" in a.get("class", "").split():
            if a.get("role") != "img" or not a.get("aria-label"):
                self.problems.append("chart svg without role=img and aria-label")
            self._svg_depth, self._svg_title = 1, False
        elif self._svg_depth:
            self._svg_depth += 1
            if tag == "title":
                self._svg_title = True
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))

    def handle_endtag(self, tag: str) -> None:
        if self._svg_depth:
            self._svg_depth -= 1
            if self._svg_depth == 0 and not self._svg_title:
                self.problems.append("chart svg without title")

    def check(self, html: str) -> list[str]:
        self.feed(html)
        problems = list(self.problems)
        if not self.html_lang:
            problems.append("html without lang")
        for ident, name in self.inputs:
            if not ident or ident not in self.labels:
                problems.append(f"input without label: id={ident!r} name={name!r}")
        if self.headings.count(1) != 1:
            problems.append(f"{self.headings.count(1)} h1 elements")
        level = 0
        for h in self.headings:
            if h > level + 1:
                problems.append(f"heading h{h} after h{level}")
            level = h
        return problems
