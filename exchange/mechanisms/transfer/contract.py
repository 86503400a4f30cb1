"""The contract of a transfer as a PDF: bilingual (Chinese first), with fpdf2.

Chinese needs a CJK font: :func:`cjk_font` looks for one (fontconfig's
``fc-match``, then known paths; ``.ci/run`` installs WenQuanYi Micro Hei) and
raises :class:`FontMissing` with what to install when there is none.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

KNOWN_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
FONT_ENV_HINT = "install a CJK font, e.g. `apt-get install fonts-wqy-microhei`"


class FontMissing(RuntimeError):
    """No CJK font to write the Chinese text of a contract."""


def cjk_font() -> Path:
    """The path of a TrueType font with Chinese glyphs (``FontMissing`` if none)."""
    if shutil.which("fc-match"):
        try:
            found = subprocess.run(
                ["fc-match", "-f", "%{file}", ":lang=zh"],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            found = ""
        if found.lower().endswith((".ttf", ".ttc", ".otf")) and _has_cjk_name(found):
            return Path(found)
    for path in KNOWN_FONTS:
        if Path(path).is_file():
            return Path(path)
    raise FontMissing(f"no Chinese (CJK) font found for the contract PDF: {FONT_ENV_HINT}")


def _has_cjk_name(path: str) -> bool:
    name = Path(path).name.lower()
    return any(k in name for k in ("wqy", "cjk", "noto", "droid", "hei", "song", "ming", "han"))


@dataclass(frozen=True)
class Party:
    code: str
    name_zh: str
    name_en: str
    role_zh: str
    role_en: str


@dataclass(frozen=True)
class ContractYear:
    year: int
    quantity: int
    payment_yuan: str
    due: str
    status: str
    journal_hash: str | None


@dataclass(frozen=True)
class ContractStep:
    step_zh: str
    step_en: str
    username: str
    at: str
    reason: str | None


@dataclass(frozen=True)
class ContractData:
    """Everything a contract shows, already formatted (the service builds it)."""

    number: str
    status: str
    market_family: str
    unit: str
    parties: Sequence[Party]
    quantity_per_year: int
    first_year: int
    last_year: int
    price_yuan: str
    total_yuan: str
    payment_zh: str
    payment_en: str
    years: Sequence[ContractYear]
    approvals: Sequence[ContractStep]
    issued_at: str


def render(data: ContractData) -> bytes:
    """The contract as PDF bytes."""
    pdf = FPDF(format="A4")
    pdf.set_title(f"Water-rights transfer contract {data.number}")
    pdf.set_author("Environmental Rights Exchange")
    pdf.add_font("cjk", "", str(cjk_font()))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    _heading(pdf, "水权协议转让合同", "Water-rights transfer contract")
    _line(pdf, f"合同编号 Contract no.: {data.number}    状态 Status: {data.status}")
    _line(pdf, f"水权品种 Market family: {data.market_family}")
    _section(pdf, "一、当事方", "1. Parties")
    for party in data.parties:
        _line(pdf, f"{party.role_zh}：{party.name_zh}（{party.code}）")
        _line(pdf, f"{party.role_en}: {party.name_en} ({party.code})")
    _section(pdf, "二、转让标的与期限", "2. Volume and term")
    _line(pdf, f"每年转让水量：{data.quantity_per_year:,} {data.unit}")
    _line(pdf, f"Quantity per year: {data.quantity_per_year:,} {data.unit}")
    _line(pdf, f"期限：{data.first_year}年至{data.last_year}年")
    _line(pdf, f"Term: {data.first_year} to {data.last_year}")
    _section(pdf, "三、价格与支付", "3. Price and payment")
    _line(pdf, f"价格：每{data.unit}每年 {data.price_yuan} 元；合同总价 {data.total_yuan} 元")
    _line(
        pdf, f"Price: {data.price_yuan} yuan per {data.unit} per year; total {data.total_yuan} yuan"
    )
    _line(pdf, f"支付方式：{data.payment_zh}  Payment: {data.payment_en}")
    _section(pdf, "四、交付与支付计划", "4. Delivery and payment schedule")
    for year in data.years:
        _line(
            pdf,
            f"{year.year}: {year.quantity:,} {data.unit} / {year.payment_yuan} 元 yuan / "
            f"due 到期 {year.due} / {year.status}",
        )
        if year.journal_hash:
            _line(pdf, f"    账本凭证哈希 journal hash: {year.journal_hash}", size=7)
    _section(pdf, "五、审核与批准（双人复核）", "5. Review and approval (four eyes)")
    if not data.approvals:
        _line(pdf, "尚无 None yet")
    for step in data.approvals:
        text = f"{step.step_zh} {step.step_en}: {step.username}, {step.at}"
        _line(pdf, text + (f" ({step.reason})" if step.reason else ""))
    _line(pdf, "")
    _line(pdf, f"生成时间 Issued: {data.issued_at}", size=8)
    return bytes(pdf.output())


def _heading(pdf: FPDF, zh: str, en: str) -> None:
    pdf.set_font("cjk", size=16)
    pdf.cell(0, 10, zh, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="C")
    pdf.set_font("cjk", size=12)
    pdf.cell(0, 8, en, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="C")
    pdf.ln(2)


def _section(pdf: FPDF, zh: str, en: str) -> None:
    pdf.ln(2)
    pdf.set_font("cjk", size=12)
    pdf.cell(0, 8, f"{zh}  {en}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _line(pdf: FPDF, text: str, size: int = 10) -> None:
    pdf.set_font("cjk", size=size)
    pdf.multi_cell(0, 6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
