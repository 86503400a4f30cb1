"""The compensation formula: pure functions over integers (no database, no clock).

Anyone can recompute a settlement from its readings with this module alone.

Terms (signed; **positive: downstream pays upstream**, negative: upstream pays
downstream):

- **class term** = (target class - measured class) x amount per class. Classes are
  GB 3838-2002 classes I-V as 1-5, and 6 for worse than V; a smaller number is
  cleaner water, so water better than the target makes the term positive.
- **index term**: the pollutant index of a set of concentrations is the mean over
  the agreement's indicators of concentration / its class-III limit
  (:data:`CLASS_III_LIMITS`, GB 3838-2002, in micrograms per litre). Its change
  against the baseline index is ``(index - baseline) / baseline x 100`` percent,
  counted in **whole percentage points truncated toward zero** (only a full point
  counts: a fall of 2.9 % is 2 points, a rise of 0.99 % is 0). Each point of fall
  pays ``amount_per_point`` downstream -> upstream, each point of rise the other
  way; the term's magnitude is capped at ``index_cap``.
- A **monthly** assessment pays one twelfth of each term per month: each term is
  divided by 12 and **rounded to the nearest whole fen, halves away from zero** (so
  a payment and its mirror image have the same size); the total is the sum of the
  two rounded terms. The cap applies to the yearly-equivalent index term before
  the division, i.e. a month pays at most ``index_cap / 12`` (rounded the same way).
- An **annual** assessment on monthly data uses the year's average: concentrations
  are the exact mean of the months (kept as a fraction, never rounded), the class is
  the mean of the monthly classes **rounded to the nearest whole class, halves to
  the worse (higher) class**. A reading given for the year itself is used as it is.

All arithmetic is exact (:class:`fractions.Fraction`); results are integers (fen,
whole points). Displayed indices are rounded to 6 decimals for reading only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

CLASS_III_LIMITS: Mapping[str, int] = {"COD": 20_000, "NH3-N": 1_000, "TP": 200, "TN": 1_000}
"""GB 3838-2002 surface water class III limits, micrograms per litre (COD 20 mg/L,
NH3-N 1.0, TP 0.2 for rivers, TN 1.0)."""

INDICATORS = tuple(CLASS_III_LIMITS)
BEST_CLASS = 1
WORST_CLASS = 6  # worse than class V
MONTHS_PER_YEAR = 12
ANNUAL = "annual"
MONTHLY = "monthly"
ASSESSMENTS = (ANNUAL, MONTHLY)


@dataclass(frozen=True)
class Terms:
    """What an agreement pays: per class of difference, per index point, the cap (fen)."""

    target_class: int
    amount_per_class: int
    amount_per_point: int
    index_cap: int
    baseline: Mapping[str, int]  # indicator -> baseline concentration, ug/L
    assessment: str = ANNUAL


@dataclass(frozen=True)
class Measurement:
    """A period's class and concentrations (ug/L, exact: a mean of months is a fraction)."""

    measured_class: Fraction
    concentrations: Mapping[str, Fraction]


@dataclass(frozen=True)
class Breakdown:
    """A settlement's figures; ``total`` > 0: downstream pays upstream."""

    target_class: int
    measured_class: int
    class_difference: int
    class_term: int
    baseline_index: Fraction
    index: Fraction
    index_change_points: int
    index_term: int
    total: int
    divisor: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe figures: exact indices as ``"numerator/denominator"`` and 6 decimals."""
        return {
            "target_class": self.target_class,
            "measured_class": self.measured_class,
            "class_difference": self.class_difference,
            "class_term": self.class_term,
            "baseline_index": _decimal(self.baseline_index),
            "baseline_index_exact": _exact(self.baseline_index),
            "index": _decimal(self.index),
            "index_exact": _exact(self.index),
            "index_change_points": self.index_change_points,
            "index_term": self.index_term,
            "divisor": self.divisor,
            "total": self.total,
        }


def _exact(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def _decimal(value: Fraction) -> str:
    scaled = round_half_away(value * 10**6)
    sign = "-" if scaled < 0 else ""
    whole, frac = divmod(abs(scaled), 10**6)
    return f"{sign}{whole}.{frac:06d}"


def round_half_away(value: Fraction) -> int:
    """``value`` rounded to the nearest integer, halves away from zero."""
    magnitude = abs(value)
    whole = magnitude.numerator // magnitude.denominator
    if magnitude - whole >= Fraction(1, 2):
        whole += 1
    return whole if value >= 0 else -whole


def truncate(value: Fraction) -> int:
    """``value`` truncated toward zero (whole units only)."""
    magnitude = abs(value)
    whole = magnitude.numerator // magnitude.denominator
    return whole if value >= 0 else -whole


def pollutant_index(
    concentrations: Mapping[str, Fraction] | Mapping[str, int], indicators: Sequence[str]
) -> Fraction:
    """Mean over ``indicators`` of concentration / class-III limit (exact)."""
    if not indicators:
        raise ValueError("an index needs at least one indicator")
    total = sum(
        (Fraction(concentrations[name]) / CLASS_III_LIMITS[name] for name in indicators),
        Fraction(0),
    )
    return total / len(indicators)


def index_change_points(index: Fraction, baseline_index: Fraction) -> int:
    """Change of ``index`` against ``baseline_index`` in whole percentage points (toward 0)."""
    if baseline_index <= 0:
        raise ValueError("the baseline index must be positive")
    return truncate((index - baseline_index) / baseline_index * 100)


def annual_class(classes: Sequence[int]) -> int:
    """The year's class from its months: the mean, to the nearest class, halves to the worse."""
    if not classes:
        raise ValueError("no monthly classes")
    return whole_class(Fraction(sum(classes), len(classes)))


def average(measurements: Sequence[Measurement]) -> Measurement:
    """The mean of several months: exact mean concentrations, the mean class (unrounded)."""
    if not measurements:
        raise ValueError("nothing to average")
    names = set(measurements[0].concentrations)
    if any(set(m.concentrations) != names for m in measurements):
        raise ValueError("the months measure different indicators")
    count = len(measurements)
    return Measurement(
        measured_class=Fraction(sum(m.measured_class for m in measurements), count),
        concentrations={
            name: Fraction(sum(m.concentrations[name] for m in measurements), count)
            for name in sorted(names)
        },
    )


def whole_class(value: Fraction) -> int:
    """A class as a whole number: a mean of months rounded as :func:`annual_class` says."""
    whole = value.numerator // value.denominator
    return whole + 1 if value - whole >= Fraction(1, 2) else whole


def compute(terms: Terms, measurement: Measurement) -> Breakdown:
    """The settlement of one period (a month under ``monthly``, a year under ``annual``)."""
    indicators = sorted(terms.baseline)
    missing = [name for name in indicators if name not in measurement.concentrations]
    if missing:
        raise ValueError(f"no concentration for {', '.join(missing)}")
    measured = whole_class(measurement.measured_class)
    difference = terms.target_class - measured
    baseline_index = pollutant_index(terms.baseline, indicators)
    index = pollutant_index(measurement.concentrations, indicators)
    points = index_change_points(index, baseline_index)
    yearly_index = max(-terms.index_cap, min(terms.index_cap, -points * terms.amount_per_point))
    yearly_class = difference * terms.amount_per_class
    divisor = MONTHS_PER_YEAR if terms.assessment == MONTHLY else 1
    class_term = round_half_away(Fraction(yearly_class, divisor))
    index_term = round_half_away(Fraction(yearly_index, divisor))
    return Breakdown(
        target_class=terms.target_class,
        measured_class=measured,
        class_difference=difference,
        class_term=class_term,
        baseline_index=baseline_index,
        index=index,
        index_change_points=points,
        index_term=index_term,
        total=class_term + index_term,
        divisor=divisor,
    )


def recompute(data: Mapping[str, Any]) -> Breakdown:
    """Recompute a stored breakdown from its own inputs (what an auditor does).

    ``data`` is a settlement's ``breakdown``: the terms (``target_class``, amounts, cap,
    ``baseline``, ``assessment``), the ``classes`` of the readings used and their
    ``concentrations`` (exact ``"numerator/denominator"`` means). Compare the result's
    ``to_dict()`` with the stored figures.
    """
    terms = Terms(
        target_class=int(data["target_class"]),
        amount_per_class=int(data["amount_per_class"]),
        amount_per_point=int(data["amount_per_point"]),
        index_cap=int(data["index_cap"]),
        baseline={k: int(v) for k, v in data["baseline"].items()},
        assessment=str(data["assessment"]),
    )
    classes = [int(c) for c in data["classes"]]
    measurement = Measurement(
        measured_class=Fraction(sum(classes), len(classes)),
        concentrations={k: Fraction(v) for k, v in data["concentrations"].items()},
    )
    return compute(terms, measurement)
