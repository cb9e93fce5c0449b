"""The Need vs capacity page's outlook (computing layer): a seasonal forecast of need, demand and slots,
tested on series with a known pattern, and the ranking of where the gap will be largest next quarter.

Pure functions over the `need_vs_capacity` rows; no query, no figure. Cells forecast to have no slots are
left out of the ranking: there is no program there to add slots to, and their 100 % on a handful of people
would hide the gaps that funding can close.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from atlas.views import suppression
from atlas.vocab import label as service_label

HORIZON = 3  # months of outlook
SEASON = 12
COVERAGE = 0.8  # of the outlook's band
# the columns the ranking keeps for its table, with the headings the table reads under
OUTLOOK_COLUMNS = {
    "region": "Region", "service": "Service", "unmet_need": "Unmet need, next 3 months",
    "unmet_share": "Share of need unmet", "last_unmet_need": "Unmet need, last 3 months", "change": "Change",
    "need": "People in need", "capacity": "Slots", "demand": "Referrals expected",
}


@dataclass(frozen=True)
class Forecast:
    """Forecasts of several monthly series at once: arrays of shape (series, horizon)."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    method: str  # "seasonal" or "recent average"
    misses: int  # past forecasts (per series and horizon, at most) the band was sized from


def _point(values: np.ndarray, horizon: int, season: int, years: int, rule: str) -> tuple[np.ndarray, str]:
    """A forecasting rule on complete rows of monthly values (series × months).

    `seasonal`: with more than one season of history, each coming month is the average of the same
    month in up to `years` past years, each brought forward by the average year-on-year change of
    the last `season` months (a seasonal naive forecast with drift, averaged over years); with
    less, the average of the last three months (`recent average`). `carry`: the last month carried
    forward (slots follow funding decisions, not seasons of need).
    """
    series, n = values.shape
    if n == 0:
        return np.zeros((series, horizon)), "recent average" if rule == "seasonal" else rule
    if rule == "carry":
        return np.repeat(values[:, -1:], horizon, axis=1), "carry"
    if n <= season:
        level = values[:, -min(3, n):].mean(axis=1)
        return np.repeat(level[:, None], horizon, axis=1), "recent average"
    drift = (values[:, season:] - values[:, :-season])[:, -season:].mean(axis=1)
    out = np.empty((series, horizon))
    for h in range(1, horizon + 1):
        target = n - 1 + h
        back = [k for k in range(1, years + 1) if target - season * k >= 0]
        out[:, h - 1] = np.mean([values[:, target - season * k] + k * drift for k in back], axis=0)
    return out, "seasonal"


def forecast(values, horizon: int = HORIZON, season: int = SEASON, years: int = 3, coverage: float = COVERAGE,
             backtest: int = 12, rule: str = "seasonal") -> Forecast:
    """Forecast the next `horizon` months of each series (rows; a 1-D array is one series) by `rule`.

    The band: the same rule is replayed from each of the last `backtest` months (using only the
    months before it), and its misses at each horizon give a root-mean-square error; the band is
    the forecast ± z of that error, z for `coverage` of a normal distribution (1.28 for 80 %). With
    fewer than three such misses it falls back on the spread of the last `season` months. Counts
    cannot go below zero, so the forecast and the band are cut at 0.
    """
    if rule not in ("seasonal", "carry"):
        raise ValueError(f"unknown forecasting rule {rule!r}")
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[None, :]
    if horizon > season:
        raise ValueError("the horizon must not exceed the season")
    series, n = values.shape
    mean, method = _point(values, horizon, season, years, rule)
    first = season + 1 if method == "seasonal" else 1  # replay only where the same rule applies
    errors = [[] for _ in range(horizon)]
    for used in range(max(first, n - backtest), n):
        past, _ = _point(values[:, :used], horizon, season, years, rule)
        for h in range(horizon):
            if used + h < n:
                errors[h].append(values[:, used + h] - past[:, h])
    pooled = [e for per_h in errors for e in per_h]
    sigma = np.empty((series, horizon))
    for h in range(horizon):
        misses = errors[h] if len(errors[h]) >= 3 else pooled
        if len(misses) >= 3:
            sigma[:, h] = np.sqrt(np.mean(np.square(misses), axis=0))
        else:
            recent = values[:, -season:]
            sigma[:, h] = recent.std(axis=1, ddof=1) if recent.shape[1] >= 2 else 0.0
    z = NormalDist().inv_cdf(0.5 + coverage / 2)
    mean = np.maximum(mean, 0.0)
    return Forecast(mean=mean, low=np.maximum(mean - z * sigma, 0.0), high=mean + z * sigma, method=method,
                    misses=max((len(e) for e in errors), default=0))


def wilson_low(successes, trials):
    """Lower end of the Wilson score interval of successes / trials (NaN where there are no trials);
    the same measure as `unmet_share_low` in the gap queries (the wilson_low model macro)."""
    return suppression.wilson(successes, trials)[0]


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def forecast_origin(end: dt.date | None, as_of) -> dt.date | None:
    """The last complete month (its first day) on or before the period's end, or else before `as_of`
    (the data's latest activity)."""
    if end is None:
        if as_of is None or pd.isna(as_of):
            return None
        end = pd.Timestamp(as_of).date()
    month = month_start(end)
    next_month = (pd.Timestamp(month) + pd.DateOffset(months=1)).date()
    if end < next_month - dt.timedelta(days=1):  # the end month is not complete
        month = (pd.Timestamp(month) - pd.DateOffset(months=1)).date()
    return month


def monthly_matrix(history: pd.DataFrame, column: str) -> pd.DataFrame:
    """Cells (region, service_type) × every month from the first to the last, missing months as 0."""
    months = pd.date_range(history["month"].min(), history["month"].max(), freq="MS")
    wide = history.pivot_table(index=["region", "service_type"], columns="month", values=column, aggfunc="sum")
    return wide.reindex(columns=months).fillna(0)


def outlook(history: pd.DataFrame, horizon: int = HORIZON) -> pd.DataFrame:
    """Forecast need, demand and capacity of every cell of `need_vs_capacity` rows for `horizon` months.

    Need and demand follow the `seasonal` rule; capacity is carried forward from the last month.
    One row per (region, service_type, month ahead): each measure with `_low` and `_high` (the band),
    and `unmet_need` = max(need − capacity, 0) of the point forecasts; `method` names need's rule.
    """
    columns = ["region", "service_type", "month", "step"]
    measures = ("need", "demand", "capacity")
    if history.empty:
        return pd.DataFrame(columns=columns + [f"{m}{s}" for m in measures for s in ("", "_low", "_high")]
                            + ["unmet_need", "method"])
    parts = []
    for measure in measures:
        wide = monthly_matrix(history, measure)
        fc = forecast(wide.to_numpy(), horizon, rule="carry" if measure == "capacity" else "seasonal")
        months = pd.date_range(wide.columns[-1], periods=horizon + 1, freq="MS")[1:]
        for label, block in (("", fc.mean), ("_low", fc.low), ("_high", fc.high)):
            frame = pd.DataFrame(block, index=wide.index, columns=months).stack()
            parts.append(frame.rename(measure + label))
        if measure == "need":
            method = fc.method
    out = pd.concat(parts, axis=1).reset_index()
    out.columns = ["region", "service_type", "month", *out.columns[3:]]
    out["step"] = out.groupby(["region", "service_type"]).cumcount() + 1
    out["unmet_need"] = (out["need"] - out["capacity"]).clip(lower=0)
    out["method"] = method
    return out[columns + [c for c in out.columns if c not in columns]]


def outlook_ranking(history: pd.DataFrame, ahead: pd.DataFrame, horizon: int = HORIZON) -> pd.DataFrame:
    """Where the gap will be largest next quarter: forecast unmet need over forecast need, by cell,
    beside the unmet need of the last `horizon` months. Cells forecast to have no slots are left
    out (see the module's note); ranked like the gap queries, by the lower end of the share's 95 %
    Wilson interval (`wilson_low`), then by people."""
    if ahead.empty:
        return pd.DataFrame(columns=list(dict.fromkeys(["region", "service_type", *OUTLOOK_COLUMNS, "unmet_share_low"])))
    keys = ["region", "service_type"]
    nxt = ahead.groupby(keys)[["need", "demand", "capacity", "unmet_need"]].sum()
    last_months = sorted(history["month"].unique())[-horizon:]
    recent = history[history["month"].isin(last_months)].groupby(keys)["unmet_need"].sum()
    nxt["last_unmet_need"] = recent.reindex(nxt.index).fillna(0)
    nxt = nxt[nxt["capacity"] > 0].reset_index()
    nxt["unmet_share"] = nxt["unmet_need"] / nxt["need"].where(nxt["need"] > 0)
    nxt["unmet_share_low"] = wilson_low(nxt["unmet_need"], nxt["need"])
    nxt["change"] = nxt["unmet_need"] - nxt["last_unmet_need"]
    nxt["service"] = nxt["service_type"].map(service_label)
    nxt = nxt[nxt["unmet_need"] > 0]
    return nxt.sort_values(["unmet_share_low", "unmet_need"], ascending=False, ignore_index=True)
