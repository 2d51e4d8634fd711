#!/usr/bin/env python3
"""One `ltv.spark.features` job on a local Spark, as a benchmark variant: read the Parquet
inputs, compute the features (label included), write them as Parquet, stop.

    python spark_job.py ORDERS EVENTS OUT --cutoff 2025-09-30 --utc-offset +08:00 \
        [--master local[2]] [--partitions N]
"""
import argparse
import os
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("orders")
ap.add_argument("events")
ap.add_argument("out")
ap.add_argument("--cutoff", required=True)
ap.add_argument("--utc-offset", default=None)
ap.add_argument("--master", default="local[2]")
ap.add_argument("--partitions", type=int, default=None)
ap.add_argument("--driver-memory", default="4g")
a = ap.parse_args()

os.environ["PYSPARK_PYTHON"] = sys.executable
from pyspark.sql import SparkSession  # noqa: E402

import ltv.spark  # noqa: E402

t0 = time.time()
spark = (SparkSession.builder.master(a.master).appName("ltv-bench")
         .config("spark.driver.memory", a.driver_memory)
         .config("spark.ui.enabled", "false")
         .config("spark.sql.session.timeZone", "UTC")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
t1 = time.time()
orders = spark.read.parquet(a.orders)
events = spark.read.parquet(a.events)
feats = ltv.spark.features(orders, events, cutoff=a.cutoff, horizon="90d", label=True,
                           utc_offset=a.utc_offset, partitions=a.partitions)
feats.write.mode("overwrite").parquet(a.out)
t2 = time.time()
print(f"session_s={t1 - t0:.2f} job_s={t2 - t1:.2f}", file=sys.stderr)
spark.stop()
