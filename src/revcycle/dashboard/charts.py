"""Plotly figures for the dashboard. Money is plotted as floats (a chart's axis needs numbers)
but every hover label shows the exact ``Decimal`` formatted as money."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from revcycle.dashboard.formatting import money, percent

_LAYOUT: dict[str, Any] = {
    "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
    # Title on the left, legend on the right of the same line.
    "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1},
    "hovermode": "x unified",
}


def _floats(values: Iterable[Any]) -> list[float]:
    return [float(v) if v is not None else 0.0 for v in values]


def _money_labels(values: Iterable[Any]) -> list[str]:
    return [money(Decimal(v) if v is not None else None) for v in values]


def ar_trend(daily: pd.DataFrame) -> Any:
    """Insurance, patient and total A/R at the end of each day."""
    fig = go.Figure()
    for column, name in (
        ("total_ar_amount", "Total A/R"),
        ("insurance_balance_amount", "Insurance A/R"),
        ("patient_balance_amount", "Patient A/R"),
    ):
        fig.add_trace(
            go.Scatter(
                x=list(daily["balance_date"]),
                y=_floats(daily[column]),
                customdata=_money_labels(daily[column]),
                name=name,
                mode="lines",
                hovertemplate="%{customdata}",
            )
        )
    fig.update_layout(title="A/R at the end of each day", yaxis_tickprefix="$", **_LAYOUT)
    return fig


def ar_trend_by_payer(by_payer: pd.DataFrame) -> Any:
    """Insurance A/R owed by each payer at the end of each day, stacked."""
    fig = go.Figure()
    for payer_id, rows in by_payer.groupby("payer_id", sort=True):
        name = str(rows["payer_name"].iloc[0] or payer_id)
        fig.add_trace(
            go.Scatter(
                x=list(rows["balance_date"]),
                y=_floats(rows["insurance_balance_amount"]),
                customdata=_money_labels(rows["insurance_balance_amount"]),
                name=f"{name} ({payer_id})",
                mode="lines",
                stackgroup="payers",
                hovertemplate="%{customdata}",
            )
        )
    fig.update_layout(title="Insurance A/R by payer", yaxis_tickprefix="$", **_LAYOUT)
    return fig


def aging_buckets(buckets: pd.DataFrame, basis_label: str) -> Any:
    """Insurance and patient balances per aging bucket, stacked."""
    fig = go.Figure()
    for column, name in (
        ("insurance_balance_amount", "Insurance"),
        ("patient_balance_amount", "Patient"),
    ):
        fig.add_trace(
            go.Bar(
                x=list(buckets["age_bucket"]),
                y=_floats(buckets[column]),
                customdata=_money_labels(buckets[column]),
                name=name,
                hovertemplate="%{customdata}",
            )
        )
    fig.update_layout(
        title=f"A/R by days since {basis_label}",
        barmode="stack",
        yaxis_tickprefix="$",
        xaxis_type="category",
        **_LAYOUT,
    )
    return fig


def pareto(rows: pd.DataFrame, title: str, top: int = 15) -> Any:
    """Denied dollars per key, costliest first (bars), and their running share (line)."""
    shown = rows.head(top)
    labels = [
        f"{key} {label}" if isinstance(label, str) and label and label != key else str(key)
        for key, label in zip(shown["breakdown_key"], shown["breakdown_label"], strict=True)
    ]
    labels = [text if len(text) <= 40 else text[:39] + "…" for text in labels]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(
            x=labels,
            y=_floats(shown["denied_amount"]),
            customdata=_money_labels(shown["denied_amount"]),
            name="Denied",
            hovertemplate="%{customdata}",
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=labels,
            y=_floats(shown["cumulative_share"]),
            customdata=[percent(v) for v in shown["cumulative_share"]],
            name="Cumulative share",
            mode="lines+markers",
            hovertemplate="%{customdata}",
        ),
        secondary_y=True,
    )
    fig.update_layout(title=title, xaxis_type="category", **_LAYOUT)
    fig.update_yaxes(tickprefix="$", secondary_y=False)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05], secondary_y=True)
    return fig
