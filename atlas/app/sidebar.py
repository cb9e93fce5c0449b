"""The shared filters every page honours, drawn in the sidebar by the entrypoint (a director's free period,
region, service and sector; the board's and funders' whole reporting periods), the filters of this run, and
the board pack's period. Layer: the Streamlit glue (atlas.app), over atlas.filters' pure periods."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from atlas import config, formats, vocab
from atlas.app.cache import CachedAtlas, database, opened, require_database
from atlas.audience import Audience
from atlas.filters import PERIODS, Filters, board_periods, period_bounds, reporting_periods, whole_period

DEFAULT_PERIOD = "Last 12 months"  # the directors' period until they choose another


def data_days(extent: pd.Series) -> tuple[dt.date, dt.date] | None:
    """The first and last day of referral in the data (a `data_extent` row); None when it holds none."""
    if pd.isna(extent["first_referral"]):
        return None
    return pd.Timestamp(extent["first_referral"]).date(), pd.Timestamp(extent["last_referral"]).date()


def _board_periods(first: dt.date | None, last: dt.date | None) -> list:
    """The whole quarters and years board and funder views choose from (latest quarter first); when
    there are none, the page says there is nothing to report, and stops."""
    periods = board_periods(first, last) if first else []
    if not periods:
        st.info("The data does not yet cover a whole calendar quarter: there is nothing to report yet.")
        st.stop()
    return periods


def sidebar_filters(db: CachedAtlas, viewer: Audience | None = None) -> Filters:
    """Draw the shared filters in the sidebar (their state persists across pages) and return them.

    Board and funder views choose among whole reporting periods of the whole network only."""
    extent = db.query("data_extent").iloc[0]
    days = data_days(extent)
    if days is None:
        st.sidebar.info("The database holds no referrals yet.")
        return Filters()
    first, last = days
    if viewer is not None and viewer.restricted:
        return _reporting_period_filter(first, last)
    choices = db.query("filter_choices")

    def options(dimension: str) -> list[str]:
        # "" stands for all: a region, sector or service type is never empty
        return [""] + choices.loc[choices["dimension"] == dimension, "value"].tolist()

    def label(value: str) -> str:
        return vocab.label(value) if value else "All"

    sb = st.sidebar
    sb.header("Filters")
    preset = sb.selectbox("Period", PERIODS, index=PERIODS.index(DEFAULT_PERIOD), key="filter_period")
    custom = None
    if preset == "Custom":
        picked = sb.date_input("From – to", value=(max(first, last - dt.timedelta(days=364)), last),
                               min_value=first, max_value=last, key="filter_dates")
        custom = tuple(picked) if isinstance(picked, (tuple, list)) and len(picked) == 2 else None
    start, end = period_bounds(preset, first, last, custom)
    region = sb.selectbox("Region", options("region"), format_func=label, key="filter_region")
    service = sb.selectbox("Service type", options("service_type"), format_func=label, key="filter_service")
    sector = sb.selectbox("Sector", options("sector"), format_func=label, key="filter_sector",
                          help="For referral figures, the receiving agency's region and sector count.")
    as_of = pd.Timestamp(extent["as_of"])
    sb.caption(f"Data runs {formats.span(first, last)}; latest activity {formats.moment(as_of)}.")
    return Filters(start, end, region or None, service or None, sector or None)


def _reporting_period_filter(first, last) -> Filters:
    config.reporting_period()  # read here so a wrong setting is explained on the page, not first met by a delivery
    periods = _board_periods(first, last)
    sb = st.sidebar
    sb.header("Reporting period")
    labels = [label for label, _, _, _ in periods]
    picked = sb.selectbox("Quarter or year", labels, key="filter_reporting_period",
                          help="Whole calendar quarters and years that have ended, latest quarter first. Each is "
                               "compared with the period of the same length just before it.")
    _, start, end, length = periods[labels.index(picked)]
    sb.caption(f"Whole quarters and years of the whole network, protected together so that no two choices can "
               f"be compared to work out a small number. Counts of 1 to {config.min_cell() - 1} people are "
               "hidden.")
    return Filters(start, end, aligned=length)


def current_filters(person: Audience | None = None) -> Filters:
    """The filters the entrypoint drew for this run. A board or funder view only ever gets a whole
    quarter or year of the whole network: the latest whole quarter when none was drawn (a director's
    filters left in the session, or anything else, are not honoured)."""
    filters = st.session_state.get("atlas_filters", Filters())
    if person is None or not person.restricted:
        return filters
    days = data_days(require_database().query("data_extent").iloc[0])
    if days is not None and whole_period(filters, *days):
        return filters
    _, start, end, length = _board_periods(*(days or (None, None)))[0]
    return Filters(start, end, aligned=length)


def board_pack(filters: Filters) -> tuple[Filters | None, tuple | None]:
    """The board pack's period for the page's filters (the board's own whole period, or the latest whole one
    that ends by the filters' end) and its two deferred downloads (HTML, PDF), built on click with the
    board's protections whoever clicks; (None, None) when the data holds no whole period yet."""
    from atlas.packs import board

    days = data_days(opened().query("data_extent").iloc[0])
    if days is None:
        return None, None
    length = config.reporting_period()
    if not reporting_periods(days[0], days[1], length):
        return None, None
    period = board.for_board(filters, days[0], days[1], length)
    return period, board.deferred(database(), period, config.min_cell())
