"""The DWD test reference years TRY2010 shipped in demandlib: loader and region lookup.

Datenbasis: Deutscher Wetterdienst. The 15 German climate regions' typical ("mittleres")
years, reference period 1988-2007, one hourly record per hour of a 365-day year, as
distributed with ``demandlib`` (``demandlib/vdi/resources_weather/TRY2010_NN_Jahr.dat``)
and the regions' outlines (``TRY_polygons.geojson``, WGS84 longitude/latitude) [1]_.

This module is the only place that reads them (through ``importlib.resources``, from the
installed package); :mod:`models.pv.weather` computes on what it returns.

Time reference
--------------
The header labels the hours 1-24 "MEZ" (UTC+1). The irradiance follows two clocks,
told apart by the record's flag ``IK``; we found them in the data, not the header:

* **measured records (IK 1)** — regions 2, 3, 4, 9, 12 and most of 11 — are hourly means
  over the hour *ending* at ``HH``:00 **true solar time** (wahre Ortszeit, WOZ) at the
  station, the clock DWD logged its radiation measurements in;
* **computed records (IK 9)** — regions 1, 5, 6, 7, 8, 10, 13, 14, 15 — are centred on
  ``HH``:00 **MEZ** (the hour ``HH-0.5`` to ``HH+0.5``).

Evidence (``tests/unit/test_try_data.py`` keeps it): on each region's clear days (cloud
cover at most 2 octa at every daylight hour, 9-36 days a region) we placed each hourly
mean at the middle of an MEZ hour-ending hour and fitted the offset of the irradiance
centroid from solar noon against the equation of time (EoT):

* IK 1 regions: offset = (station longitude - 15°) x 4 min/° + 1.06-1.30 x EoT, residual
  0.5-5 min (Potsdam: -8.7 min + EoT; its longitude term is -7.7 min). A fixed clock
  cannot follow EoT's ±16 min seasonal swing; a solar clock does. Read as WOZ
  hour-ending, TRY04's clear days sit 0.0 ± 1.6 min from solar noon.
* IK 9 regions: offset = -30 min + 0.00 x EoT, residual 0.4-0.6 min, the same at every
  longitude (Bremerhaven's longitude term is -26 min, Garmisch's -16): an MEZ clock,
  with the value at the labelled instant instead of over the hour before it.

Air temperature and wind are taken on the same clock as the irradiance of the record (an
error of well under an hour in slowly varying quantities). :func:`midpoints_utc` turns
a date's records into UTC instants at the middle of their intervals, moved from the
station's longitude to the site's so that clear days centre on the site's solar noon.
29 February, absent from a 365-day reference year, takes 28 February's records.

References
----------
.. [1] Deutscher Wetterdienst / Bundesamt für Bauwesen und Raumordnung, "Aktualisierte
   und erweiterte Testreferenzjahre (TRY) von Deutschland für mittlere und extreme
   Witterungsverhältnisse", Offenbach, 2011 (the TRY2010 handbook).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources

import numpy as np
import numpy.typing as npt
import pandas as pd
import pvlib

REGIONS = range(1, 16)
"""The TRY climate regions' numbers, 1..15."""

HOURS_PER_YEAR = 8760
_PACKAGE = "demandlib.vdi"
_FOLDER = "resources_weather"
# Data columns after the "***" line: RG IS MM DD HH N WR WG t p x RF W B D IK A E IL.
_COLUMNS = {"month": 2, "day": 3, "hour": 4, "cloud_octa": 5, "wind_m_s": 7, "temp_air_c": 8,
            "pressure_hpa": 9, "beam_horizontal_w_m2": 13, "diffuse_horizontal_w_m2": 14, "irradiance_flag": 15}
_INT_COLUMNS = ("month", "day", "hour", "cloud_octa", "irradiance_flag")
COMPUTED_FLAG = 9
"""``IK`` of a record whose irradiance was computed (from cloud cover, sunshine), not measured."""


@dataclass(frozen=True, eq=False)
class TryYear:
    """One region's test reference year: 8,760 hourly records, 1 January 01:00 to 31 December 24:00.

    Attributes
    ----------
    region : int
        TRY climate region, 1..15.
    station : str
        The representative station, e.g. ``"Potsdam"``.
    latitude, longitude : float
        The station's position, north and east positive [deg].
    altitude_m : float
        The station's height above sea level [m].
    month, day, hour : ndarray of int64, shape (8760,)
        The record's month 1..12, day 1..31 and hour 1..24; the hour ``hour`` ends at
        ``hour``:00 true solar time (see the module's "Time reference").
    beam_horizontal_w_m2, diffuse_horizontal_w_m2 : ndarray of float64, shape (8760,)
        Hourly mean direct (``B``) and diffuse (``D``) irradiance on a horizontal plane [W/m²].
    temp_air_c : ndarray of float64, shape (8760,)
        Air temperature 2 m above ground [°C].
    wind_m_s : ndarray of float64, shape (8760,)
        Wind speed 10 m above ground [m/s].
    pressure_hpa : ndarray of float64, shape (8760,)
        Air pressure at the station [hPa].
    cloud_octa : ndarray of int64, shape (8760,)
        Cloud cover [octa] 0..8, 9 = sky not visible.
    irradiance_flag : ndarray of int64, shape (8760,)
        ``IK``: 1 = irradiance measured, 9 = computed (:data:`COMPUTED_FLAG`); it sets the
        record's clock (module docstring, "Time reference").
    """

    region: int
    station: str
    latitude: float
    longitude: float
    altitude_m: float
    month: npt.NDArray[np.int64]
    day: npt.NDArray[np.int64]
    hour: npt.NDArray[np.int64]
    beam_horizontal_w_m2: npt.NDArray[np.float64]
    diffuse_horizontal_w_m2: npt.NDArray[np.float64]
    temp_air_c: npt.NDArray[np.float64]
    wind_m_s: npt.NDArray[np.float64]
    pressure_hpa: npt.NDArray[np.float64]
    cloud_octa: npt.NDArray[np.int64]
    irradiance_flag: npt.NDArray[np.int64]

    def rows_of(self, month: int, day: int) -> npt.NDArray[np.int64]:
        """Indices of the 24 records of a date, hours 1..24 in order, shape (24,).

        29 February, which a 365-day reference year does not have, takes 28 February's records.

        Raises
        ------
        ValueError
            If ``month``/``day`` is not a calendar date.
        """
        if (month, day) == (2, 29):
            day = 28
        first = int(np.searchsorted(self._date_keys, month * 100 + day))
        if first >= HOURS_PER_YEAR or self._date_keys[first] != month * 100 + day:
            raise ValueError(f"no TRY records for month {month} day {day}")
        return np.arange(first, first + 24)

    @property
    def _date_keys(self) -> npt.NDArray[np.int64]:
        return self.month * 100 + self.day


def parse_try(text: str) -> TryYear:
    """Parse the text of a ``TRY2010_NN_Jahr.dat`` file.

    Parameters
    ----------
    text : str
        The whole file: a header (station, "Lage" line with position and height), a line
        ``***``, then 8,760 whitespace-separated records.

    Returns
    -------
    TryYear

    Raises
    ------
    ValueError
        If the header lacks the position or the body does not hold 8,760 records of 19 columns.
    """
    lines = text.splitlines()
    try:
        star = next(i for i, line in enumerate(lines) if line.startswith("***"))
        station = next(line for line in lines if line.startswith("Station:"))[8:].split("WMO")[0].strip()
        lage = next(line for line in lines if line.startswith("Lage:"))
        found = re.search(r"(\d+)°(\d+)'N.*?(\d+)°(\d+)'O.*?(-?\d+) Meter", lage)
        if found is None:
            raise ValueError(f"no position in {lage!r}")
        lat_d, lat_m, lon_d, lon_m, altitude = (int(group) for group in found.groups())
        latitude, longitude, altitude_m = lat_d + lat_m / 60.0, lon_d + lon_m / 60.0, float(altitude)
    except (StopIteration, ValueError) as error:
        raise ValueError(f"not a TRY2010 file header: {error}") from error
    table = np.loadtxt(lines[star + 1:], dtype=np.float64, ndmin=2)
    if table.shape != (HOURS_PER_YEAR, 19):
        raise ValueError(f"expected {HOURS_PER_YEAR} records of 19 columns, got {table.shape}")
    column = {name: table[:, index] for name, index in _COLUMNS.items()}
    ints = {name: column[name].astype(np.int64) for name in _INT_COLUMNS}
    return TryYear(
        region=int(table[0, 0]), station=station, latitude=latitude, longitude=longitude, altitude_m=altitude_m,
        month=ints["month"], day=ints["day"], hour=ints["hour"], cloud_octa=ints["cloud_octa"],
        irradiance_flag=ints["irradiance_flag"], beam_horizontal_w_m2=column["beam_horizontal_w_m2"],
        diffuse_horizontal_w_m2=column["diffuse_horizontal_w_m2"], temp_air_c=column["temp_air_c"],
        wind_m_s=column["wind_m_s"], pressure_hpa=column["pressure_hpa"],
    )


@lru_cache(maxsize=15)
def load_try(region: int) -> TryYear:
    """The test reference year of ``region`` from the installed demandlib package (read once per region).

    Raises
    ------
    ValueError
        If ``region`` is not 1..15.
    """
    if region not in REGIONS:
        raise ValueError(f"TRY region must be 1..15, got {region}")
    name = f"{_FOLDER}/TRY2010_{region:02d}_Jahr.dat"
    return parse_try(resources.files(_PACKAGE).joinpath(name).read_text(encoding="utf-8"))


_Ring = npt.NDArray[np.float64]
"""A closed polygon ring, shape (k, 2): longitude, latitude [deg]."""


@lru_cache(maxsize=1)
def _region_polygons() -> tuple[tuple[int, _Ring, tuple[_Ring, ...]], ...]:
    """(region, outer ring, holes) for every polygon of every region (GeoJSON: first ring outer, others holes)."""
    text = resources.files(_PACKAGE).joinpath(f"{_FOLDER}/TRY_polygons.geojson").read_text(encoding="utf-8")
    polygons: list[tuple[int, _Ring, tuple[_Ring, ...]]] = []
    for feature in json.loads(text)["features"]:
        region = int(feature["properties"]["TRY_code"])
        for rings in feature["geometry"]["coordinates"]:
            outer, *holes = (np.asarray(ring, dtype=np.float64) for ring in rings)
            polygons.append((region, outer, tuple(holes)))
    return tuple(polygons)


def _contains(ring: _Ring, x: float, y: float) -> bool:
    """Whether (x, y) lies inside ``ring``: even-odd ray casting towards +x.

    Written out (a dozen lines of NumPy) rather than taken from shapely, which is not a
    dependency, or ``matplotlib.path``, whose import alone costs the PV simulator 14 MB.
    """
    xs, ys = ring[:, 0], ring[:, 1]
    next_x, next_y = np.roll(xs, -1), np.roll(ys, -1)
    straddles = (ys > y) != (next_y > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing_x = xs + (y - ys) * (next_x - xs) / (next_y - ys)
    return bool(np.count_nonzero(straddles & (x < crossing_x)) % 2)


def region_at(latitude: float, longitude: float) -> int:
    """The TRY region whose outline contains a point.

    Parameters
    ----------
    latitude, longitude : float
        The point, north and east positive [deg].

    Returns
    -------
    int
        The region, 1..15 (Berlin: 4, Potsdam's).

    Raises
    ------
    ValueError
        If the point lies in no region (outside Germany).
    """
    for region, outer, holes in _region_polygons():
        if _contains(outer, longitude, latitude) and not any(_contains(hole, longitude, latitude) for hole in holes):
            return region
    raise ValueError(f"({latitude}, {longitude}) lies in no German TRY region; choose one with --weather-region 1..15")


def midpoints_utc(year: TryYear, day: date, longitude: float) -> pd.DatetimeIndex:
    """UTC instants at the middle of the intervals of a date's 24 records, seen from a site.

    Parameters
    ----------
    year : TryYear
        The region's test reference year.
    day : date
        The calendar date; 29 February takes 28 February's records but its own sun.
    longitude : float
        The site's longitude, east positive [deg]: the records are moved from the
        station's solar time to the site's (4 min per degree).

    Returns
    -------
    pandas.DatetimeIndex, shape (24,), tz UTC
        Measured records (IK 1): hour ``HH`` ends at ``HH``:00 true solar time, so its
        middle is ``HH``-0.5 h true solar time; computed records (IK 9): ``HH``:00 MEZ.
        See the module's "Time reference".
    """
    rows = year.rows_of(day.month, day.day)
    hour_h = year.hour[rows].astype(np.float64)
    midnight_utc = pd.Timestamp(day, tz="UTC")
    day_of_year = pd.Timestamp(day).day_of_year
    equation_of_time_min = float(pvlib.solarposition.equation_of_time_spencer71(day_of_year))
    # true solar time = UTC + longitude x 4 min/deg + EoT
    solar_h = hour_h - 0.5 - longitude / 15.0 - equation_of_time_min / 60.0
    mez_h = hour_h - 1.0 - (longitude - year.longitude) / 15.0
    utc_h = np.where(year.irradiance_flag[rows] == COMPUTED_FLAG, mez_h, solar_h)
    return pd.DatetimeIndex(midnight_utc + pd.to_timedelta(utc_h * 3600.0, unit="s"))
