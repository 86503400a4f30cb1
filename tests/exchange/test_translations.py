"""The gettext catalogs: complete, not stale against the sources, compiled at start."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from exchange.web.i18n import CATALOGS, compile_catalogs

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _catalog(path: Path, locale: str | None = None):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _ids(catalog) -> set[str]:  # type: ignore[no-untyped-def]
    return {m.id for m in catalog if m.id}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The msgids in the templates and the code today (as ``pybabel extract`` finds them)."""
    out = tmp_path_factory.mktemp("pot") / "now.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l",
         "-k", "lazy_gettext", "-o", str(out), str(ROOT / "exchange"), str(ROOT / "templates")]
    )  # fmt: skip
    return _ids(_catalog(out))


def test_the_template_is_not_stale(extracted: set[str]) -> None:
    in_pot = _ids(_catalog(CATALOGS / "messages.pot"))
    assert extracted - in_pot == set(), "run pybabel extract (README, Web pages)"
    assert in_pot - extracted == set(), "strings no longer used: run pybabel extract"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_string_has_a_translation(lang: str, extracted: set[str]) -> None:
    catalog = _catalog(CATALOGS / lang / "LC_MESSAGES" / "messages.po", lang)
    assert extracted - _ids(catalog) == set(), f"run pybabel update, then translate ({lang})"
    for message in catalog:
        if not message.id:
            continue
        assert message.string, f"{lang}: no translation for {message.id!r}"
        assert "fuzzy" not in message.flags, f"{lang}: fuzzy {message.id!r}"
        assert set(PLACEHOLDER.findall(message.id)) == set(PLACEHOLDER.findall(message.string))
        if lang == "zh" and re.search(r"[a-z]{3}", message.id):
            # a Chinese translation has Chinese in it (codes such as "CSV" aside)
            assert re.search(r"[\u4e00-\u9fff]", message.string), message.id


def test_no_compiled_catalog_is_committed() -> None:
    assert list(CATALOGS.rglob("*.mo")) == []


def test_catalogs_compile_at_start_to_a_fresh_folder(tmp_path: Path) -> None:
    written = compile_catalogs(CATALOGS, tmp_path)
    assert sorted(p.parent.parent.name for p in written) == ["en", "zh"]
    from babel.support import Translations

    zh = Translations.load(str(tmp_path), ["zh"])
    assert zh.gettext("Markets") == "市场"
    assert zh.gettext("Clearing run %(id)s") % {"id": 7} == "第 7 次出清"
