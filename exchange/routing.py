"""URL rules whose builders are compiled when first used.

Werkzeug compiles two URL builders (Python code, through ``compile``) for every rule when the
rule is added to the app, which was two thirds of the time to create the app (each test
creates one; each worker of a server, once). Most rules are never built from (``url_for``)
in a given process, so :class:`LazyBuilderRule` compiles a builder on its first use instead.
Matching requests is untouched: its regular expressions are still made when the rule is
added.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from werkzeug.routing import Rule


class LazyBuilderRule(Rule):
    """A werkzeug ``Rule`` that compiles each URL builder on its first call."""

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        compile_now = super()._compile_builder
        attribute = "_build_unknown" if append_unknown else "_build"

        def build_on_first_use(rule: Rule, *args: Any, **kwargs: Any) -> tuple[str, str]:
            builder = compile_now(append_unknown).__get__(rule, None)
            setattr(rule, attribute, builder)  # later calls go straight to the compiled one
            result: tuple[str, str] = builder(*args, **kwargs)
            return result

        return build_on_first_use


class ExchangeFlask(Flask):
    """The app class: Flask with :class:`LazyBuilderRule` for its routes."""

    url_rule_class = LazyBuilderRule
