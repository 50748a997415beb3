"""The DWD TRY2010 loader, region lookup and time reference (Datenbasis: Deutscher Wetterdienst)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pvlib
import pytest

from models.pv.try_data import REGIONS, TryYear, load_try, midpoints_utc, parse_try, region_at


def clear_days(year: TryYear) -> list[date]:
    """Dates whose every daylight hour has at most 1 octa of cloud and whose irradiance is mostly beam."""
    ghi = year.beam_horizontal_w_m2 + year.diffuse_horizontal_w_m2
    days = []
    for first in range(0, 8760, 24):
        rows = slice(first, first + 24)
        light = ghi[rows] > 0
        if (ghi[rows].max() > 100 and year.cloud_octa[rows][light].max() <= 1
                and year.beam_horizontal_w_m2[rows].sum() >= 0.6 * ghi[rows].sum()):
            days.append(date(2010, int(year.month[first]), int(year.day[first])))
    return days


def solar_noon_offset_min(year: TryYear, day: date, weight: np.ndarray, longitude: float) -> float:
    """Centroid of ``weight`` (24 hourly values placed at their midpoints) minus solar noon at ``longitude`` [min]."""
    midnight = pd.Timestamp(day, tz="UTC")
    hours = (midpoints_utc(year, day, longitude) - midnight).total_seconds().to_numpy() / 3600.0
    centroid_h = float((weight * hours).sum() / weight.sum())
    equation_of_time_min = float(pvlib.solarposition.equation_of_time_spencer71(midnight.day_of_year))
    noon_h = 12.0 - longitude / 15.0 - equation_of_time_min / 60.0
    return (centroid_h - noon_h) * 60.0


def test_every_region_loads_a_whole_year_with_its_station() -> None:
    potsdam = load_try(4)
    assert (potsdam.station, potsdam.region) == ("Potsdam", 4)
    assert potsdam.latitude == pytest.approx(52 + 23 / 60) and potsdam.longitude == pytest.approx(13 + 4 / 60)
    assert potsdam.altitude_m == 81.0
    assert load_try(6).station == "Bad Marienberg"
    for region in REGIONS:
        year = load_try(region)
        assert year.region == region and len(year.hour) == 8760
        assert set(np.unique(year.hour)) == set(range(1, 25))
        assert (year.beam_horizontal_w_m2 >= 0).all() and (year.diffuse_horizontal_w_m2 >= 0).all()
        # a German year: 900-1,300 kWh/m² of global horizontal irradiation
        ghi_kwh_m2 = (year.beam_horizontal_w_m2 + year.diffuse_horizontal_w_m2).sum() / 1000.0
        assert 900 < ghi_kwh_m2 < 1300, (region, ghi_kwh_m2)


def test_region_lookup_finds_the_stations_and_big_cities() -> None:
    assert region_at(52.52, 13.405) == 4  # Berlin
    assert region_at(48.14, 11.58) == 13  # Munich
    assert region_at(53.55, 10.0) == 3  # Hamburg
    for region in REGIONS:
        year = load_try(region)
        found = region_at(year.latitude, year.longitude)
        # the outlines are coarse: Braunlage (8, a small upland) falls just inside region 6's outline
        assert found == region or (region, found) == (8, 6), (region, year.station, found)
    with pytest.raises(ValueError, match="no German TRY region"):
        region_at(48.85, 2.35)  # Paris


def test_29_february_takes_28_february_and_other_dates_their_own() -> None:
    year = load_try(4)
    assert (year.rows_of(2, 29) == year.rows_of(2, 28)).all()
    rows = year.rows_of(3, 1)
    assert (year.month[rows] == 3).all() and (year.day[rows] == 1).all() and list(year.hour[rows]) == list(range(1, 25))
    with pytest.raises(ValueError, match="no TRY records"):
        year.rows_of(2, 30)


def test_a_file_without_its_header_is_refused() -> None:
    with pytest.raises(ValueError, match="not a TRY2010 file"):
        parse_try("RG IS MM\n***\n 4 1 1 1 1\n")


@pytest.mark.parametrize("region", list(REGIONS))
def test_clear_day_irradiance_centres_on_solar_noon(region: int) -> None:
    """Irradiance centroid of the clear days, on the clock ``midpoints_utc`` reads, is at solar noon.

    Single days of measured regions stray a few minutes (a hazier afternoon); a wrong clock would
    shift them all, by the longitude term (up to 32 min) and the equation of time (±16 min).
    """
    year = load_try(region)
    ghi = year.beam_horizontal_w_m2 + year.diffuse_horizontal_w_m2
    offsets = [solar_noon_offset_min(year, day, ghi[year.rows_of(day.month, day.day)], year.longitude)
               for day in clear_days(year)]
    assert len(offsets) >= 3
    assert abs(np.mean(offsets)) < 5.0, offsets
    assert np.median(np.abs(offsets)) < 5.0, offsets


def test_reading_the_header_literally_misses_solar_noon_by_the_equation_of_time() -> None:
    """The evidence against MEZ hour-ending for measured records: the offset follows the equation of time."""
    year = load_try(4)
    ghi = year.beam_horizontal_w_m2 + year.diffuse_horizontal_w_m2
    offsets, equation_min = [], []
    for day in clear_days(year):
        rows = year.rows_of(day.month, day.day)
        centroid_mez_h = float((ghi[rows] * (year.hour[rows] - 0.5)).sum() / ghi[rows].sum())
        eot = float(pvlib.solarposition.equation_of_time_spencer71(pd.Timestamp(day).day_of_year))
        noon_mez_h = 13.0 - year.longitude / 15.0 - eot / 60.0
        offsets.append((centroid_mez_h - noon_mez_h) * 60.0)
        equation_min.append(eot)
    assert np.corrcoef(offsets, equation_min)[0, 1] > 0.9
    assert np.ptp(offsets) > 15.0


def test_point_in_polygon_by_ray_casting() -> None:
    from models.pv.try_data import _contains

    square = np.array([[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0], [0.0, 0.0]])
    assert _contains(square, 1.0, 1.0) and _contains(square, 3.9, 2.0)
    assert not _contains(square, 4.5, 2.0) and not _contains(square, -0.1, 2.0) and not _contains(square, 2.0, 5.0)
    # a vertex at the ray's height is counted once, not twice
    diamond = np.array([[2.0, 0.0], [4.0, 2.0], [2.0, 4.0], [0.0, 2.0], [2.0, 0.0]])
    assert _contains(diamond, 1.0, 2.0) and not _contains(diamond, -1.0, 2.0)
