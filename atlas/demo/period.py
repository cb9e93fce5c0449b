"""The calendar of the demo's period: days counted from its start, seasons and weekdays, timestamps.

Layer: the demo package, above its fixed tables (atlas.demo.story: the trend and the weekdays).
"""

from __future__ import annotations

import datetime

import numpy as np

from atlas.demo.story import TREND_PER_YEAR, WEEKDAY

SECONDS_PER_DAY = 86_400


class Period:
    """Calendar of the period: days are floats counted from `start`."""

    def __init__(self, start: datetime.date, months: int):
        first = np.datetime64(start, "M")
        self.months = np.arange(first, first + months)  # datetime64[M]
        self.start = first.astype("datetime64[D]")
        self.days = int(((first + months).astype("datetime64[D]") - self.start).astype(int))
        day = self.start + np.arange(self.days)
        self.moy_of_day = day.astype("datetime64[M]").astype(int) % 12  # 0 = January
        self.dow_of_day = (day.astype(int) + 3) % 7  # 0 = Monday
        self.moy_of_month = self.months.astype(int) % 12
        self.year_of_month = np.arange(months) // 12

    def day_weights(self, monthly: tuple[float, ...]) -> np.ndarray:
        trend = 1 + TREND_PER_YEAR * np.arange(self.days) / 365.25
        return np.asarray(monthly)[self.moy_of_day] * np.asarray(WEEKDAY)[self.dow_of_day] * trend

    def timestamps(self, days: np.ndarray) -> np.ndarray:
        """Float days (NaN = missing) to datetime64[us], truncated to whole seconds (order kept)."""
        seconds = np.floor(days * SECONDS_PER_DAY + 1e-6)  # + 1e-6: 12:59 stays 12:59:00, not 12:58:59
        missing = np.isnan(seconds)
        seconds[missing] = 0
        stamp = seconds.astype(np.int64)
        stamp *= 1_000_000
        stamp += self.start.astype("datetime64[us]").astype(np.int64)
        stamp[missing] = np.iinfo(np.int64).min  # NaT
        return stamp.view("datetime64[us]")

    def dates(self, days: np.ndarray) -> np.ndarray:
        return self.start + np.floor(days).astype(np.int64)
