"""Figures as the dashboard shows them: money as $1,234.56, ratios as percentages, KPI
fractions and windows in words. Pure functions on ``Decimal``; no rounding happens before
display (a ``Decimal`` is quantized to the cent, half up, only here)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from revcycle.dashboard.queries import Kpi

CENT = Decimal("0.01")

# What each KPI's numerator and denominator count (fct_kpis: _kpi__docs.md). Numerators and
# denominators are stored as decimal(18,2) whatever they count.
_KPI_PARTS: dict[str, tuple[str, str]] = {
    "clean_claim_rate": ("count", "count"),
    "first_pass_resolution_rate": ("count", "count"),
    "initial_denial_rate_count": ("count", "count"),
    "initial_denial_rate_amount": ("money", "money"),
    "gross_collection_rate": ("money", "money"),
    "net_collection_rate": ("money", "money"),
    "days_to_submission": ("count", "count"),  # summed days / claims
    "days_to_payment": ("count", "count"),
    "net_days_in_ar": ("money", "money"),
    "aged_ar_over_90_days_share": ("money", "money"),
    "aged_ar_over_120_days_share": ("money", "money"),
}


def money(amount: Decimal | int | None) -> str:
    """$1,234.56; -$5.00 for a credit; an em dash for no amount."""
    if amount is None:
        return "—"
    value = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def count(value: Decimal | int) -> str:
    return f"{int(value):,}"


def percent(fraction: Decimal | None, places: int = 2) -> str:
    """0.9555 -> 95.55 %."""
    if fraction is None:
        return "—"
    scaled = (Decimal(fraction) * 100).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    return f"{scaled:,.{places}f} %"


def days(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return f"{Decimal(value).quantize(Decimal('0.1'), ROUND_HALF_UP):,.1f} days"


def _part(kind: str, value: Decimal) -> str:
    if kind == "money":
        return money(value)
    if value == value.to_integral_value():
        return count(value)
    return f"{value:,}"


def kpi_value(kpi: Kpi) -> str:
    """The KPI's value: a percentage for ratios, days for the day KPIs; a dash when its
    denominator is 0."""
    if kpi.unit == "days":
        return days(kpi.value)
    return percent(kpi.value)


def kpi_fraction(kpi: Kpi) -> str:
    """Numerator / denominator with what they count, e.g.
    ``365 insured claims ready (no hold edit) / 382 insured claims scrubbed``."""
    num_kind, den_kind = _KPI_PARTS.get(kpi.kpi_id, ("number", "number"))
    numerator = f"{_part(num_kind, kpi.numerator)} {kpi.numerator_label}".strip()
    denominator = f"{_part(den_kind, kpi.denominator)} {kpi.denominator_label}".strip()
    if kpi.kpi_id == "net_days_in_ar":
        window_days = (kpi.window_end_date - kpi.window_start_date).days + 1
        return f"{numerator} × {window_days} days / {denominator}"
    return f"{numerator} / {denominator}"


def window(kpi: Kpi) -> str:
    """The KPI's window in words."""
    start, end = kpi.window_start_date, kpi.window_end_date
    if kpi.window_type == "month":
        return f"served in {start:%B %Y} ({start} to {end})"
    if kpi.window_type == "to_date":
        return f"served {start} to {end}"
    if kpi.window_type == "trailing_90_days":
        return f"trailing 90 days, {start} to {end}"
    if kpi.window_type == "as_of":
        return f"as of {end}"
    return f"{kpi.window_type} {start} to {end}"
