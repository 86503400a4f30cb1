"""Languages of the web pages: gettext catalogs (Flask-Babel) and the language switch.

The labels live in ``exchange/translations/`` (``messages.pot``, ``zh`` and ``en``
``.po``). The ``.po`` files are compiled to ``.mo`` when the app starts (into the
instance folder, or a temporary folder when that is read-only), so a compiled catalog
is never stale and never committed. Templates call ``_("English text", name=value)``;
views call ``gettext``. The language comes from ``?lang=en|zh`` (remembered in a cookie
for a year, so it survives logging in, which clears the session), else the cookie,
else the browser's ``Accept-Language``, else English.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, g, request
from flask.wrappers import Response
from flask_babel import Babel, get_locale

LANGUAGES = ("en", "zh")
DEFAULT_LANGUAGE = "en"
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
CATALOGS = Path(__file__).resolve().parent.parent / "translations"
DOMAIN = "messages"


def select_locale() -> str:
    """``?lang=`` (then remembered), else the ``lang`` cookie, else ``Accept-Language``."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        g.set_lang_cookie = asked
        return asked
    cookie = request.cookies.get(COOKIE)
    if cookie in LANGUAGES:
        return cookie
    best = request.accept_languages.best_match(["en", "zh", "zh-CN", "zh-Hans", "zh-TW"])
    return "zh" if best and best.startswith("zh") else DEFAULT_LANGUAGE


def language() -> str:
    """The language of the current request: ``"en"`` or ``"zh"``."""
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else "en"


def compile_catalogs(source: Path, target: Path) -> list[Path]:
    """Compile every ``<lang>/LC_MESSAGES/messages.po`` under ``source`` into ``target``.

    Each ``.mo`` is written to a temporary file and renamed, so that workers starting
    at the same time never read half a file. Fuzzy entries are left out (as msgfmt does).
    """
    written = []
    for po_path in sorted(source.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        lang = po_path.parent.parent.name
        out_dir = target / lang / "LC_MESSAGES"
        out_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(_compiled(po_path, lang))
        mo_path = out_dir / f"{DOMAIN}.mo"
        os.replace(tmp, mo_path)
        written.append(mo_path)
    return written


_COMPILED: dict[tuple[str, int, int], bytes] = {}
"""Compiled catalogs of this process, by ``.po`` path, modification time and size: an app
created again (each test creates one) reuses them; an edited ``.po`` is compiled anew."""


def _compiled(po_path: Path, lang: str) -> bytes:
    stat = po_path.stat()
    key = (str(po_path), stat.st_mtime_ns, stat.st_size)
    if key not in _COMPILED:
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=lang, domain=DOMAIN)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        _COMPILED[key] = buffer.getvalue()
    return _COMPILED[key]


def _compiled_folder(app: Flask) -> Path:
    """Where the compiled catalogs go: ``<instance>/translations``, or a temporary folder."""
    for candidate in (Path(app.instance_path) / "translations", None):
        if candidate is None:
            candidate = Path(tempfile.mkdtemp(prefix="exchange-translations-"))
        try:
            compile_catalogs(CATALOGS, candidate)
        except OSError:
            continue
        return candidate
    raise RuntimeError("cannot compile the translation catalogs")  # pragma: no cover


def _remember_language(response: Response) -> Response:
    chosen = g.get("set_lang_cookie")
    if chosen:
        response.set_cookie(
            COOKIE,
            chosen,
            max_age=COOKIE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
            path="/",
        )
    return response


def brackets(lang: str) -> dict[str, str]:
    """``lp`` and ``rp``, the brackets around an aside in the templates: `` (`` and ``)``
    in English, full-width ``（`` and ``）`` in Chinese (``成交量（立方米）``)."""
    return {"lp": "（", "rp": "）"} if lang == "zh" else {"lp": " (", "rp": ")"}


def merge_lang(args: dict[str, str], lang: str) -> str:
    """The query string of ``args`` with ``lang`` set (for the language switch links)."""
    return urlencode({**{k: v for k, v in args.items() if k != "lang"}, "lang": lang})


def init_i18n(app: Flask) -> None:
    """Compile the catalogs, bind Flask-Babel; ``lang`` and ``label`` in every template."""
    from exchange.web.labels import label

    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(_compiled_folder(app))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    Babel(app, locale_selector=select_locale)

    @app.context_processor
    def _i18n() -> dict[str, object]:
        lang = language()
        return {"lang": lang, "languages": LANGUAGES, "label": label, **brackets(lang)}

    app.add_template_filter(merge_lang, "merge_lang")
    app.after_request(_remember_language)
