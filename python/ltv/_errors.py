"""The exceptions `ltv` raises: every library error becomes one of these, never a Rust panic."""

from typing import Optional


class LtvError(Exception):
    """Base class of `ltv`'s errors.

    Attributes: `path` (the file or input named by the error, if any), `line` (the CSV line, or
    the row number of a Parquet/Arrow row), `column` (the column name), each `None` when it
    does not apply.
    """

    path: Optional[str] = None
    line: Optional[int] = None
    column: Optional[str] = None


class InputError(LtvError, ValueError):
    """Bad input data or options, located like the CLI's messages.

    >>> _ = (tmp / "orders.csv").write_text(
    ...     "customer_id,ordered_at,amount\\nC1,2025-01-01,5\\nC2,2025-01-02,twelve\\n")
    >>> try:
    ...     ltv.features(tmp / "orders.csv", cutoff="2025-06-30")
    ... except ltv.InputError as e:
    ...     print(e.line, e.column, isinstance(e, ValueError))
    3 amount True
    """


class ModelError(LtvError):
    """A model file that cannot be read, or a model that cannot be fitted to the data."""
