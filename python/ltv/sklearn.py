"""`ltv`'s regressors as a scikit-learn estimator, for pipelines, `cross_val_score` and grid
search over any numeric matrix.

>>> from ltv.sklearn import LTVRegressor
>>> from sklearn.model_selection import cross_val_score
>>> scores = cross_val_score(LTVRegressor(model="boosting", iterations=100), X, y, cv=5)
>>> len(scores), bool(scores.mean() > 0.5)     # R² on held-out folds
(5, True)

The GLMs (`linear`, `tweedie`) read every feature as `sign(x)·ln(1 + |x|)`, as ltv's own models
do; `tweedie` needs `y ≥ 0`. NaN inputs are rejected (as scikit-learn's linear models do).
"""

from __future__ import annotations

import json
from typing import Optional

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _ltv

_KINDS = ("linear", "tweedie", "tree", "boosting")


class LTVRegressor(RegressorMixin, BaseEstimator):
    """An ltv value model (`linear`, `tweedie`, `tree` or `boosting`) fitted on `X, y`.

    Parameters: `model`; `iterations`, `learning_rate`, `max_leaves`, `loss`
    (`"squared_error"` or `"poisson"`) for boosting; `max_depth` for the tree;
    `min_samples_leaf` for both; `tweedie_power` and `alpha` (L2 penalty) for the GLMs; `seed`;
    `threads` (all cores by default).

    >>> model = LTVRegressor(model="tree", max_depth=4).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    >>> model.get_params()["max_depth"]
    4
    """

    def __init__(
        self,
        model: str = "boosting",
        iterations: int = 200,
        learning_rate: float = 0.05,
        max_leaves: int = 31,
        loss: str = "squared_error",
        max_depth: int = 6,
        min_samples_leaf: int = 20,
        tweedie_power: float = 1.5,
        alpha: Optional[float] = None,
        seed: int = 42,
        threads: Optional[int] = None,
    ):
        self.model = model
        self.iterations = iterations
        self.learning_rate = learning_rate
        self.max_leaves = max_leaves
        self.loss = loss
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.tweedie_power = tweedie_power
        self.alpha = alpha
        self.seed = seed
        self.threads = threads

    def _settings(self) -> str:
        s = {
            "boosting_iterations": int(self.iterations),
            "learning_rate": float(self.learning_rate),
            "max_leaves": int(self.max_leaves),
            "boosting_loss": self.loss,
            "tree_max_depth": int(self.max_depth),
            "min_samples_leaf": int(self.min_samples_leaf),
            "tweedie_power": float(self.tweedie_power),
            "seed": int(self.seed),
        }
        if self.alpha is not None:
            s["linear_alpha"] = float(self.alpha)
            s["tweedie_alpha"] = float(self.alpha)
        return json.dumps(s)

    def fit(self, X, y):
        """Fits the model; returns `self`."""
        if self.model not in _KINDS:
            raise ValueError(f"model= must be one of {_KINDS}, not {self.model!r}")
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        if X.shape[0] < 2:
            raise ValueError(f"n_samples = {X.shape[0]}: fitting needs at least 2 samples")
        X = np.ascontiguousarray(X, dtype="<f8")
        y = np.ascontiguousarray(y, dtype="<f8")
        self.model_json_ = _ltv.fit_matrix(
            self.model, X.tobytes(), X.shape[0], X.shape[1], y.tobytes(), self._settings(),
            self.threads,
        )
        return self

    def predict(self, X):
        """Predicted values for the rows of `X`."""
        check_is_fitted(self, "model_json_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        X = np.ascontiguousarray(X, dtype="<f8")
        out = _ltv.predict_matrix(self.model_json_, X.tobytes(), X.shape[0], X.shape[1],
                                  self.threads)
        return np.asarray(out, dtype=np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
