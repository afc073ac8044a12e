"""Loading CSV series: long and wide form, frequency, the gap policy, bad values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cnnsuite import BadInputError
from cnnsuite_forecast.data import infer_freq, load, read_csv, regularise, season_of

CFG = {"series": ["sunspots"], "freq": "", "max_gap": 3}


def test_statsmodels_default_series_load() -> None:
    series, rejected = load(None, {**CFG, "max_gap": 20,
                                    "series": ["co2", "elnino", "macrodata:cpi"]})
    assert [s.id for s in series] == ["co2", "elnino", "macrodata:cpi"]
    co2 = series[0]
    assert co2.freq == "W-SAT" and co2.season == 52
    assert (~co2.observed).sum() > 0 and not np.isnan(co2.values).any()
    assert series[1].season == 12 and series[2].season == 4
    assert rejected == []


def test_unknown_statsmodels_series_is_bad_input() -> None:
    with pytest.raises(BadInputError, match="macrodata has no series 'gdp'"):
        load(None, {**CFG, "series": ["macrodata:gdp"]})


def test_infer_freq_with_gaps_and_jitter() -> None:
    months = pd.date_range("2020-01-01", periods=24, freq="MS").delete([3, 4, 10])
    assert infer_freq(months) == "MS"
    weeks = pd.date_range("2020-01-05", periods=30, freq="W-SUN").delete([5])
    assert infer_freq(weeks) == "W-SUN"
    assert infer_freq(pd.DatetimeIndex(["2020-01-01", "2020-01-02"])) is None
    assert season_of("MS") == 12 and season_of("QS") == 4 and season_of("YS") == 1


def test_short_gap_is_interpolated_and_flagged() -> None:
    stamps = pd.date_range("2020-01-01", periods=10, freq="D").delete([4, 5])
    values = np.arange(10.0)[[0, 1, 2, 3, 6, 7, 8, 9]]
    s, rejected = regularise("a", stamps, values, None, max_gap=3, source="t")
    assert s is not None and rejected == []
    np.testing.assert_allclose(s.values, np.arange(10.0))
    assert list(np.flatnonzero(~s.observed)) == [4, 5]


def test_long_gap_cuts_and_reports() -> None:
    stamps = pd.date_range("2020-01-01", periods=20, freq="D").delete(range(5, 10))
    s, rejected = regularise("a", stamps, np.ones(15), "D", max_gap=3, source="t")
    assert s is not None and len(s) == 10 and s.start.startswith("2020-01-11")
    assert len(rejected) == 1 and "gap of 5 steps" in rejected[0].reason


def test_off_grid_stamps_snap_and_average() -> None:
    stamps = pd.DatetimeIndex(["2020-01-01", "2020-01-02 01:00", "2020-01-02 23:00",
                               "2020-01-04"])
    s, _ = regularise("a", stamps, np.array([1.0, 2.0, 4.0, 5.0]), "D", 3, "t")
    assert s is not None
    np.testing.assert_allclose(s.values, [1.0, 2.0, 4.0, 5.0])
    assert list(s.observed) == [True, True, True, True]
    s, _ = regularise("b", stamps[:2].append(pd.DatetimeIndex(["2020-01-02 02:00"])),
                      np.array([1.0, 2.0, 4.0]), "D", 3, "t")
    np.testing.assert_allclose(s.values, [1.0, 3.0])


def test_long_form_csv_reports_non_numeric_and_unknown_freq(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    rows = ["series_id,timestamp,value"]
    rows += [f"a,2021-{m:02d}-01,{m}" for m in range(1, 13)]
    rows[5] = "a,2021-05-01,oops"
    rows += ["b,2021-01-01,1", "b,2021-03-07,2"]
    path.write_text("\n".join(rows) + "\n")
    series, rejected = read_csv(path, None, 3)
    assert [s.id for s in series] == ["a"]
    a = series[0]
    assert a.freq == "MS" and len(a) == 12 and not a.observed[4]
    reasons = {r.id: r.reason for r in rejected}
    assert "non-numeric value 'oops'" in reasons["a@2021-05-01"]
    assert "cannot infer the frequency" in reasons["b"]


def test_wide_form_csv(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    stamps = pd.date_range("2022-01-01", periods=6, freq="h")
    pd.DataFrame({"time": stamps, "x": range(6), "y": np.arange(6) * 2.0}).to_csv(
        path, index=False)
    series, rejected = read_csv(path, None, 3)
    assert [s.id for s in series] == ["x", "y"] and rejected == []
    assert series[0].freq == "h" and series[0].season == 24
    np.testing.assert_allclose(series[1].values, np.arange(6) * 2.0)


def test_unreadable_inputs_are_bad_input(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("timestamp,value\n")
    with pytest.raises(BadInputError, match="no rows"):
        read_csv(tmp_path / "empty.csv", None, 3)
    (tmp_path / "novalue.csv").write_text("series_id,timestamp,amount\na,2020-01-01,1\n")
    with pytest.raises(BadInputError, match="needs a value column"):
        read_csv(tmp_path / "novalue.csv", None, 3)
    with pytest.raises(BadInputError, match="not a pandas frequency"):
        load(str(tmp_path / "novalue.csv"), {**CFG, "freq": "fortnightish"})
