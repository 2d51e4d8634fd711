"""Reads `ltv`'s Parquet outputs back with pyarrow and polars and checks them against the CSV
outputs of the same run: the column types the README promises, and the same values.

Usage: parquet_readback.py KIND CSV PARQUET  (KIND: features | scores | sentiment)
Exit 0 when every check holds; prints what differs otherwise. Run by the Rust integration test
`parquet::parquet_outputs_read_back_with_pyarrow_and_polars`.
"""

import math
import sys
from datetime import datetime

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

TEXT = {"customer_id", "created_at"}
CATEGORY = {"lifecycle_stage", "rfm_segment", "tier", "lang", "label"}
INT_UNITS = (
    "orders_total", "repeat_purchase_days", "days_first_to_last_order", "customer_age_days",
    "days_since_last_order", "orders_30d", "orders_90d", "orders_365d", "events_30d",
    "events_90d", "shares_90d", "reviews_90d", "days_since_last_interaction", "rfm_r", "rfm_f",
    "rfm_m", "days_since_first_seen", "comments_total", "comments_90d",
    "days_since_last_comment", "future_orders", "future_purchase_days",
)


def expected_type(name: str) -> str:
    if name in TEXT:
        return "string"
    if name in CATEGORY:
        return "dictionary"
    if name.endswith("_at"):
        return "timestamp"
    if name in INT_UNITS:
        return "int64"
    return "double"


def check_types(schema: pa.Schema, errors: list) -> None:
    for field in schema:
        want = expected_type(field.name)
        t = field.type
        ok = {
            "string": pa.types.is_string(t),
            "dictionary": pa.types.is_dictionary(t) and pa.types.is_string(t.value_type),
            "timestamp": pa.types.is_timestamp(t) and t.tz is not None,
            "int64": pa.types.is_int64(t),
            "double": pa.types.is_float64(t),
        }[want]
        if not ok:
            errors.append(f"column {field.name}: type {t}, expected {want}")


def same_value(name: str, csv_text: str, value) -> bool:
    if csv_text == "":
        return value is None or (name == "rfm_segment" and value is None)
    if value is None:
        return False
    kind = expected_type(name)
    if kind == "timestamp":
        return datetime.fromisoformat(csv_text) == value
    if kind == "int64":
        return int(csv_text) == value
    if kind == "double":
        a = float(csv_text)
        # CSV writes reals with six decimals (trailing zeros trimmed); Parquet keeps all bits.
        return math.isfinite(value) and abs(a - value) <= 5.000001e-7
    return csv_text == str(value)


def main() -> int:
    kind, csv_path, parquet_path = sys.argv[1:4]
    errors: list = []
    table = pq.read_table(parquet_path)
    check_types(table.schema, errors)
    frame = pl.read_parquet(parquet_path)
    if frame.columns != table.column_names:
        errors.append(f"polars columns {frame.columns} != pyarrow {table.column_names}")
    csv = pl.read_csv(csv_path, infer_schema=False).fill_null("")
    if csv.columns != table.column_names:
        errors.append(f"CSV columns {csv.columns} != Parquet {table.column_names}")
    if csv.height != frame.height:
        errors.append(f"CSV has {csv.height} rows, Parquet {frame.height}")
    for name in table.column_names:
        if name not in csv.columns:
            continue
        values = table.column(name).to_pylist()
        for i, (text, value) in enumerate(zip(csv[name].to_list(), values)):
            if not same_value(name, text, value):
                errors.append(f"{kind} row {i} column {name}: CSV `{text}`, Parquet {value!r}")
                break
    for e in errors[:20]:
        print(e)
    print(f"{kind}: {table.num_rows} rows, {len(table.column_names)} columns, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
