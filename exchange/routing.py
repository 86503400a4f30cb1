"""URL rules whose builders are compiled when first used.

Werkzeug compiles two URL builders (Python code, through ``compile``) for every rule when the
rule is added to the app, which was two thirds of the time to create the app (each test
creates one; each worker of a server, once). Most rules are never built from (``url_for``)
in a given process, so :class:`LazyBuilderRule` compiles a builder on its first use instead.
Matching requests is untouched: its regular expressions are still made when the rule is
added.
"""

from __future__ import annotations

import inspect
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

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """``func`` itself when its code is no coroutine's, else Flask's async wrapper.

        Flask asks this of every hook and view on every request; its own test
        (``inspect.iscoroutinefunction``, ~20 calls a request) cost more than this one.
        """
        code = getattr(func, "__code__", None)
        if code is not None and not code.co_flags & inspect.CO_COROUTINE:
            return func
        return super().ensure_sync(func)
