"""The compensation formula against hand-computed cases (pure: no database).

Terms of the Shandong-Henan agreement (FACTS.md): 60 million yuan per class, 1 million
per whole percentage point of the index, capped at 40 million; target class III.
Baseline COD 16 mg/L, NH3-N 0.5, TP 0.1: index (0.8 + 0.5 + 0.5) / 3 = 0.6.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from exchange.compensation import formula
from exchange.compensation.formula import Measurement, Terms
from exchange.compensation.periods import Period, parse_period, term_periods

YUAN = 100
PER_CLASS = 60_000_000 * YUAN
PER_POINT = 1_000_000 * YUAN
CAP = 40_000_000 * YUAN
BASELINE = {"COD": 16_000, "NH3-N": 500, "TP": 100}


def terms(assessment: str = "annual", **changes: object) -> Terms:
    values: dict[str, object] = dict(
        target_class=3,
        amount_per_class=PER_CLASS,
        amount_per_point=PER_POINT,
        index_cap=CAP,
        baseline=BASELINE,
        assessment=assessment,
    )
    values.update(changes)
    return Terms(**values)  # type: ignore[arg-type]


def month(cls: int, cod: int, nh3n: int, tp: int) -> Measurement:
    return Measurement(
        Fraction(cls), {"COD": Fraction(cod), "NH3-N": Fraction(nh3n), "TP": Fraction(tp)}
    )


def test_limits_are_gb_3838_class_iii_in_micrograms() -> None:
    assert formula.CLASS_III_LIMITS == {"COD": 20_000, "NH3-N": 1_000, "TP": 200, "TN": 1_000}


def test_better_class_and_falling_index_downstream_pays_upstream() -> None:
    # index (0.7 + 0.45 + 0.45) / 3 = 0.5333: -11.1 % -> 11 whole points of fall
    result = formula.compute(terms(), month(2, 14_000, 450, 90))
    assert result.baseline_index == Fraction(3, 5)
    assert result.index == Fraction(8, 15)
    assert result.class_difference == 1
    assert result.class_term == 60_000_000 * YUAN
    assert result.index_change_points == -11
    assert result.index_term == 11_000_000 * YUAN
    assert result.total == 71_000_000 * YUAN


def test_worse_class_and_rising_index_upstream_pays_downstream() -> None:
    # index (0.9 + 0.6 + 0.6) / 3 = 0.7: +16.67 % -> 16 points of rise
    result = formula.compute(terms(), month(4, 18_000, 600, 120))
    assert result.class_term == -60_000_000 * YUAN
    assert result.index_change_points == 16
    assert result.index_term == -16_000_000 * YUAN
    assert result.total == -76_000_000 * YUAN


def test_equal_class_and_baseline_pays_nothing() -> None:
    result = formula.compute(terms(), month(3, 16_000, 500, 100))
    assert (result.class_term, result.index_term, result.total) == (0, 0, 0)


def test_two_classes_worse_than_v() -> None:
    result = formula.compute(terms(target_class=4), month(6, 16_000, 500, 100))
    assert result.class_term == -2 * PER_CLASS


def test_index_fall_is_capped() -> None:
    # index 0.3: -50 % -> 50 points = 50 million, capped at 40 million
    result = formula.compute(terms(), month(3, 8_000, 250, 50))
    assert result.index_change_points == -50
    assert result.index_term == CAP


def test_index_rise_is_capped() -> None:
    # index (1.6 + 1 + 1) / 3 = 1.2: +100 % -> 100 points, capped at -40 million
    result = formula.compute(terms(), month(3, 32_000, 1_000, 200))
    assert result.index_change_points == 100
    assert result.index_term == -CAP


@pytest.mark.parametrize(
    ("cod", "points"),
    [(9_710, -2), (9_700, -3), (10_099, 0), (9_901, 0), (10_100, 1), (10_000, 0)],
)
def test_only_whole_points_count(cod: int, points: int) -> None:
    # COD alone, baseline 10 mg/L: 9.71 is -2.9 % (2 points), 10.099 is +0.99 % (none)
    single = terms(baseline={"COD": 10_000})
    result = formula.compute(single, Measurement(Fraction(3), {"COD": Fraction(cod)}))
    assert result.index_change_points == points
    assert result.index_term == -points * PER_POINT


def test_monthly_pays_one_twelfth_of_each_term_rounded_to_the_fen() -> None:
    result = formula.compute(terms("monthly"), month(2, 14_000, 450, 90))
    assert result.divisor == 12
    assert result.class_term == 5_000_000 * YUAN  # 60 million / 12
    # 11 million / 12 = 916,666.666... yuan = 91,666,666.67 fen -> 91,666,667 fen
    assert result.index_term == 91_666_667
    assert result.total == 500_000_000 + 91_666_667


def test_monthly_rounding_is_symmetric_halves_away_from_zero() -> None:
    small = terms("monthly", amount_per_class=18, baseline={"COD": 10_000})
    better = formula.compute(small, Measurement(Fraction(2), {"COD": Fraction(10_000)}))
    worse = formula.compute(small, Measurement(Fraction(4), {"COD": Fraction(10_000)}))
    assert better.class_term == 2  # 18 / 12 = 1.5 -> 2
    assert worse.class_term == -2  # -1.5 -> -2


def test_monthly_cap_is_a_twelfth_of_the_yearly_cap() -> None:
    result = formula.compute(terms("monthly"), month(3, 8_000, 250, 50))
    assert result.index_term == round(CAP / 12)


def test_annual_is_the_average_of_its_months() -> None:
    # six months class 2, six class 3: mean 2.5 -> class III (halves to the worse class)
    months = [month(2, 12_000, 500, 100), month(3, 20_000, 500, 100)] * 6
    year = formula.average(months)
    assert year.measured_class == Fraction(5, 2)
    assert year.concentrations["COD"] == 16_000
    result = formula.compute(terms(), year)
    assert (result.measured_class, result.total) == (3, 0)
    # seven months class 2 and five class 3: mean 2.42 -> class II
    seven = [month(2, 16_000, 500, 100)] * 7 + [month(3, 16_000, 500, 100)] * 5
    assert formula.compute(terms(), formula.average(seven)).class_term == PER_CLASS


def test_annual_average_is_exact() -> None:
    months = [month(3, 16_001, 500, 100)] + [month(3, 16_000, 500, 100)] * 11
    year = formula.average(months)
    assert year.concentrations["COD"] == Fraction(16_000 * 12 + 1, 12)


def test_annual_equals_twelve_equal_months() -> None:
    # when every month reads the same, twelve monthly payments add up to the annual one
    reading = month(2, 14_000, 450, 90)
    annual = formula.compute(terms(), formula.average([reading] * 12))
    monthly = formula.compute(terms("monthly"), reading)
    assert annual.class_term == 12 * monthly.class_term
    assert abs(annual.index_term - 12 * monthly.index_term) <= 6  # at most half a fen a month


def test_breakdown_recomputes_from_its_figures() -> None:
    data = formula.compute(terms(), month(2, 14_000, 450, 90)).to_dict()
    assert data["index_exact"] == "8/15" and data["index"] == "0.533333"
    assert data["baseline_index_exact"] == "3/5"
    assert data["total"] == data["class_term"] + data["index_term"]


def test_missing_indicator_is_refused() -> None:
    with pytest.raises(ValueError, match="TP"):
        formula.compute(
            terms(), Measurement(Fraction(3), {"COD": Fraction(1), "NH3-N": Fraction(1)})
        )


def test_periods() -> None:
    assert parse_period("2024") == Period(2024)
    assert parse_period("2024-07") == Period(2024, 7)
    for bad in ("2024-13", "2024-00", "24", "2024-7", "２０２４", "1800"):
        with pytest.raises(ValueError):
            parse_period(bad)
    assert str(Period(2024, 7)) == "2024-07"
    assert len(term_periods(2024, 2025, "monthly")) == 24
    assert term_periods(2024, 2025, "annual") == [Period(2024), Period(2025)]
