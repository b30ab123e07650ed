"""How ``revcycle dashboard`` starts Streamlit, and the dashboard's money formatting."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from decimal import Decimal

from revcycle.dashboard import app_path, streamlit_command
from revcycle.dashboard.formatting import kpi_fraction, kpi_value, money, percent
from revcycle.dashboard.queries import Kpi


def test_streamlit_is_bound_to_loopback_headless_without_usage_stats() -> None:
    command = streamlit_command("/venv/bin/python", 8600)
    assert command[:5] == ["/venv/bin/python", "-m", "streamlit", "run", str(app_path())]
    assert app_path().is_file()
    options = set(command[5:])
    assert {
        "--server.address=127.0.0.1",
        "--server.port=8600",
        "--server.headless=true",
        "--browser.gatherUsageStats=false",
    } <= options


def test_dashboard_command_has_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "revcycle", "dashboard", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "--port" in result.stdout and "--data-dir" in result.stdout
    assert "127.0.0.1" in result.stdout


def test_money_is_dollars_and_cents() -> None:
    assert money(Decimal("1234.5")) == "$1,234.50"
    assert money(Decimal("1234567.891")) == "$1,234,567.89"
    assert money(Decimal("0.005")) == "$0.01"  # half up, only for display
    assert money(Decimal("-5")) == "-$5.00"
    assert money(Decimal("-0.00")) == "$0.00"
    assert money(None) == "—"
    assert percent(Decimal("0.9555")) == "95.55 %"
    assert percent(None) == "—"


def _kpi(kpi_id: str, unit: str, numerator: str, denominator: str, value: str | None) -> Kpi:
    return Kpi(
        kpi_id=kpi_id,
        kpi_name=kpi_id,
        unit=unit,
        window_type="trailing_90_days" if kpi_id == "net_days_in_ar" else "to_date",
        window_start_date=date(2026, 8, 4),
        window_end_date=date(2026, 11, 1),
        numerator=Decimal(numerator),
        denominator=Decimal(denominator),
        value=None if value is None else Decimal(value),
        numerator_label="num",
        denominator_label="den",
    )


def test_kpi_tiles_show_value_numerator_and_denominator() -> None:
    clean = _kpi("clean_claim_rate", "ratio", "365.00", "382.00", "0.9555")
    assert kpi_value(clean) == "95.55 %"
    assert kpi_fraction(clean) == "365 num / 382 den"
    gross = _kpi("gross_collection_rate", "ratio", "49974.69", "167232.00", "0.2988")
    assert kpi_fraction(gross) == "$49,974.69 num / $167,232.00 den"
    days = _kpi("days_to_payment", "days", "23508.00", "293.00", "80.2321")
    assert kpi_value(days) == "80.2 days"
    assert kpi_fraction(days) == "23,508 num / 293 den"
    net_days = _kpi("net_days_in_ar", "days", "30039.45", "54327.99", "49.7635")
    assert kpi_fraction(net_days) == "$30,039.45 num × 90 days / $54,327.99 den"
    empty = _kpi("clean_claim_rate", "ratio", "0", "0", None)
    assert kpi_value(empty) == "—"
