"""Allocation calculators that fill the allocation preview (integers in, whole units out).

- Carbon, intensity-based free allocation: benchmark x output x correction factor.
  ``benchmark_milli``: tCO2e per unit of output, in thousandths (0.877 t/MWh: 877);
  ``output``: units of output (MWh, GJ); ``factor_permille``: the correction factor in
  thousandths (1.0: 1000). Units = floor(benchmark x output x factor).
- Energy use (Henan 2022): units a new project must obtain = A x B x C / D, with A its
  new energy use (tce, coal excluded), B the adjustment factor 0.3-1 (``b_permille``
  300-1000), C its energy use per 10,000 yuan of value added and D the regional average
  (both in thousandths of tce per 10,000 yuan). Units = ceil(A x B x C / D).

Rounding is stated once here: the free allocation rounds down, the obligation to buy
rounds up, so neither ever favours the party.
"""

from __future__ import annotations

from exchange.errors import InvalidInput


def carbon_intensity(benchmark_milli: int, output: int, factor_permille: int) -> int:
    """Free carbon allocation in whole tCO2e (rounded down)."""
    return benchmark_milli * output * factor_permille // 1_000_000


def energy_use(new_use: int, b_permille: int, intensity_milli: int, average_milli: int) -> int:
    """Energy-use rights (tce) a new project must obtain (rounded up)."""
    if not 300 <= b_permille <= 1000:
        raise InvalidInput(
            "the adjustment factor is 0.3-1 (300-1000 per mille)", field="b_permille"
        )
    if average_milli <= 0:
        raise InvalidInput("the regional average must be positive", field="average_milli")
    return -(-new_use * b_permille * intensity_milli // (1000 * average_milli))
