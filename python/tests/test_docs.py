"""Every example in the package's docstrings runs and prints what it says (`help(ltv.x)`
teaches code that works), from the checkout's root, where `datasets/example/` is."""

import doctest
import importlib

import pytest

import ltv

from test_ltv import ROOT

MODULES = ["ltv", "ltv._errors", "ltv.sklearn"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    import os

    import numpy as np
    import polars as pl

    monkeypatch.chdir(ROOT)
    module = importlib.import_module(name)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = 10.0 * np.exp(0.5 * X[:, 0]) + rng.normal(size=300)  # positive, learnable
    globs = {"ltv": ltv, "pl": pl, "os": os, "tmp": tmp_path, "X": X, "y": y}
    result = doctest.testmod(module, extraglobs=globs, optionflags=doctest.ELLIPSIS
                             | doctest.NORMALIZE_WHITESPACE, raise_on_error=False, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
    if name != "ltv._errors":
        assert result.attempted >= 3, (name, result.attempted)


def test_the_readmes_python_example_runs(tmp_path, monkeypatch, capsys):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Python (`import ltv`)"):]
    block = section[section.index("```python\n") + len("```python\n"):]
    block = block[:block.index("```")]
    assert "ltv.train" in block and "model.score" in block
    (tmp_path / "datasets").symlink_to(ROOT / "datasets")
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})
    assert (tmp_path / "model.json").exists()
    out = capsys.readouterr().out
    assert "normalized_gini" in out and "predicted_value" in out
