"""cnnsuite plugin `forecast`: many series forecast by one dilated causal CNN with quantiles.

This module is the plugin's manifest and imports nothing heavy; the code that needs
Keras lives in `cnnsuite_forecast.plugin` and is imported only when the plugin is used.
"""

from cnnsuite import Manifest

__all__ = ["manifest"]

manifest = Manifest(
    name="forecast",
    summary="Forecast many series with one dilated causal CNN (TCN) and quantile outputs.",
    plugin="cnnsuite_forecast.plugin:ForecastPlugin",
    contract="1.1",
    default_config={
        "data": {
            "series": ["co2", "sunspots", "elnino", "macrodata:realgdp", "macrodata:realcons",
                       "macrodata:realinv", "macrodata:cpi", "macrodata:unemp",
                       "macrodata:infl"],
            "freq": "",
            "max_gap": 20,
            "covariates": ["*"],
            "future_covariates": True,
            "drop_last": 0,
        },
        "features": {"context": 64, "horizon": 8, "max_windows": 300, "anchor": "ses",
                     "scale": "season", "target": "level", "naive_input": True,
                     "balance": False, "ses_input": False, "clip_change": 0.0,
                     "winsorise": 0.0},
        "model": {"filters": 16, "kernel_size": 3, "dilations": [1, 2, 4, 8, 16],
                  "dropout": 0.1, "gated": False, "hidden": 32,
                  "quantiles": [0.1, 0.5, 0.9], "learning_rate": 0.002, "calibrate": True,
                  "ensemble": 5},
        "augment": {"noise": 0.0, "outliers": 0.0, "outlier_size": [3.0, 6.0]},
        "split": {"origins": 4, "stride": 0, "val_origins": 8, "val_stride": 1},
        "train": {"epochs": 60, "batch_size": 64, "patience": 10},
        "predict": {"horizon": 0, "output": ""},
        "explain": {"step": 0},
    },
    quick_config={
        "data": {"series": ["co2", "sunspots", "macrodata:realgdp", "macrodata:infl"]},
        "features": {"max_windows": 100},
        "train": {"epochs": 2, "patience": 2},
        "model": {"ensemble": 2},
    },
    config_help={
        "data.series": "offline default series from statsmodels: 'co2' (weekly, gaps), "
                       "'sunspots' (yearly), 'elnino' (monthly), 'macrodata:<column>' "
                       "(quarterly); used when --data is not given",
        "data.freq": "pandas frequency of the CSV series, e.g. 'D', 'W-SUN', 'MS', 'QS', "
                     "'YS', 'h' ('': infer per series)",
        "data.max_gap": "longest run of missing steps filled by interpolation; before a "
                        "longer gap the series is cut",
        "data.covariates": "extra columns of a long-form CSV used as covariates (input "
                           "channels): ['*'] every other column, [] none, or their names",
        "data.future_covariates": "covariates are known in advance: the model also reads "
                                  "them for the forecast steps, and prediction needs rows "
                                  "after each series' last value with the covariates and "
                                  "an empty value (false: past covariates only)",
        "data.drop_last": "drop the last N steps of every series first: a backtest of an "
                          "earlier period (to choose settings without the test period)",
        "features.context": "past steps the model sees (the receptive field must cover it)",
        "features.horizon": "steps forecast at once (the trained horizon)",
        "features.anchor": "level each window is shifted by: 'ses', the simple exponential "
                           "smoothing level of the context (alpha fit on it), the 'last' "
                           "value, the context 'mean', or the mean of the last 'season'",
        "features.scale": "what each series is divided by: its mean absolute one-step change "
                          "('step') or seasonal change ('season', MASE's denominator)",
        "features.target": "what the model forecasts: the horizon from the window's 'level', "
                           "or its corrections to the 'seasonal_naive' forecast",
        "features.naive_input": "give the model the seasonal naive forecast as one more "
                                "future input",
        "features.ses_input": "give the model the simple exponential smoothing forecast of "
                              "the context (alpha fit on it) as one more future input",
        "features.clip_change": "winsorise the one-step change channel at this many scale "
                                "units, either sign (0: off)",
        "features.winsorise": "pull each context value to within this many typical one-step "
                              "changes of its prediction from the cleaned past (previous "
                              "value plus the median recent change), flagged as unobserved; "
                              "a causal Hampel filter (0: off)",
        "features.max_windows": "most training windows per series, evenly spaced (0: all); "
                                "keeps long series from drowning short ones",
        "features.balance": "repeat the training windows of shorter series up to "
                            "features.max_windows, so every series weighs alike in the loss",
        "model.filters": "channels of every TCN block",
        "model.kernel_size": "width of the causal convolutions",
        "model.dilations": "dilation of each residual block (two convolutions each)",
        "model.dropout": "dropout after each convolution",
        "model.gated": "WaveNet gated units (tanh x sigmoid) instead of ReLU",
        "model.hidden": "units of the dense layer of the multi-horizon head",
        "model.quantiles": "quantiles forecast (must include 0.5; 0.1 and 0.9 give the 80% "
                           "interval)",
        "model.ensemble": "towers (TCN and head) trained side by side from different "
                          "initialisations, each on its own loss; the forecast is their "
                          "median",
        "model.learning_rate": "Adam learning rate",
        "model.calibrate": "after training, recalibrate the intervals on the validation "
                           "windows (conformalized quantile regression)",
        "augment.noise": "std of Gaussian noise added to training contexts, in units of "
                         "the series' scale (0: off)",
        "augment.outliers": "fraction of training windows copied with one isolated outlier "
                            "(half of them in the last step) and the original targets, so "
                            "a lone spike is not taken for a level shift (0: off)",
        "augment.outlier_size": "[low, high] size of those outliers in units of the series' "
                                "mean absolute one-step change (drawn uniformly, either sign)",
        "split.val": "unused: forecast splits by rolling origins (split.origins)",
        "split.test": "unused: forecast splits by rolling origins (split.origins)",
        "split.origins": "test forecast origins at the end of every series (rolling origin)",
        "split.stride": "steps between origins (0: the horizon)",
        "split.val_origins": "validation origins before the test period (early stopping)",
        "split.val_stride": "steps between validation origins",
        "predict.horizon": "steps to forecast at prediction (0: the trained horizon; never "
                           "more)",
        "predict.output": "file name of the forecasts' CSV inside the prediction folder "
                          "(RUN/predictions/NNNN or --out; '': forecasts.csv)",
        "explain.step": "forecast step explained by `cnnsuite explain` (0: the sum of the "
                        "medians over the horizon)",
    },
    data_formats=(
        "long-form CSV: series_id,timestamp,value (also unique_id/ds/y); one row per "
        "observation; other columns are covariates (data.covariates), and rows after a "
        "series' last value with covariates and an empty value are its known future",
        "wide-form CSV: a timestamp column, then one column per series",
        "a folder of such CSV files",
        "gaps: snapped to a regular grid, runs up to data.max_gap interpolated and flagged, "
        "longer gaps cut; non-numeric values and too-short series reported in rejected.csv",
        "prediction: the same CSV forms; forecasts start after each series' last timestamp",
    ),
    metrics=("mase (headline, mean over series)", "smape", "wql (weighted quantile loss)",
             "coverage_80", "the same per series, and seasonal naive's mase"),
)
