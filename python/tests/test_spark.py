"""`ltv.spark` on a local Spark (`local[2]`) against the CLI on the same data: features and
scores value for value, for 1, 3 and 7 partitions and shuffled rows, on CDNOW and on
synthetic data with events, comments, customers, repeated order rows, refunds and customers
without orders.

Skipped without pyspark or Java (`LTV_REQUIRE_SPARK=1`, as CI sets, makes that a failure).
"""

import os
import shutil
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from test_ltv import CDNOW, cli, cli_inputs, paths

KINDS = ["orders", "events", "comments", "customers"]


@pytest.fixture(scope="module")
def spark():
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        if os.environ.get("LTV_REQUIRE_SPARK"):
            raise
        pytest.skip("pyspark is not installed")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        if os.environ.get("LTV_REQUIRE_SPARK"):
            pytest.fail("no Java for Spark")
        pytest.skip("no Java for Spark")
    # the workers run this interpreter, which has ltv installed
    os.environ["PYSPARK_PYTHON"] = sys.executable
    s = (SparkSession.builder.master("local[2]").appName("ltv-tests")
         .config("spark.sql.shuffle.partitions", "4")
         .config("spark.ui.enabled", "false")
         .config("spark.sql.session.timeZone", "UTC")
         .getOrCreate())
    yield s
    s.stop()


def assert_same(got_df, want_path):
    """A Spark result and a CLI Parquet output hold the same rows and values (by customer)."""
    got = got_df.toArrow().sort_by("customer_id")
    want = pq.read_table(want_path).sort_by("customer_id")
    assert got.column_names == want.column_names
    assert got.num_rows == want.num_rows
    for name in want.column_names:
        g, w = got.column(name), want.column(name)
        if pa.types.is_dictionary(w.type):
            w = w.cast(w.type.value_type)
        if pa.types.is_timestamp(w.type):
            w = w.cast(pa.timestamp("us", tz="UTC"))
            g = g.cast(pa.timestamp("us", tz="UTC"))
        assert g.cast(w.type).to_pylist() == w.to_pylist(), name


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    """Synthetic CSV inputs with repeated order rows, a reused order id with another amount,
    refunds, and customers listed without any order."""
    d = tmp_path_factory.mktemp("spark_data")
    cli("synth", "--customers", 1200, "--seed", 5, "-o", d)
    lines = (d / "orders.csv").read_text().splitlines()
    header, rows = lines[0], lines[1:]
    extra = rows[10:40]  # exact repeats: count once
    col = header.split(",").index("amount")
    for amount in ("12.34", "-5.00"):  # the same order id with another amount, and a refund
        fields = rows[50].split(",")
        fields[col] = amount
        extra.append(",".join(fields))
    (d / "orders.csv").write_text("\n".join([header, *rows, *extra]) + "\n")
    with open(d / "customers.csv", "a") as f:
        f.write("NOORDERS1,2025-01-05T10:00:00+08:00,wecom\nNOORDERS2,,app\n")
    return d


def read_csv(spark, path):
    # RFC 4180 quoting (a quote inside a field is doubled), fields may span lines
    return spark.read.csv(str(path), header=True, escape='"', multiLine=True)


def test_features_and_scores_equal_the_clis_for_any_partitioning_and_row_order(spark, messy,
                                                                                 tmp_path):
    import ltv
    import ltv.spark
    from pyspark.sql import functions as F

    files = paths(messy, "csv")
    ins = cli_inputs(files)
    cli("features", *ins, "--cutoff", "2025-06-30", "--horizon", "90d", "--label",
        "-o", tmp_path / "f.parquet")
    cli("train", *ins, "--cutoff", "2025-03-31", "--horizon", "90d", "--model", "boosting",
        "-o", tmp_path / "m.json")
    cli("score", "--model", tmp_path / "m.json", *ins, "--as-of", "2025-06-30",
        "-o", tmp_path / "s.parquet")
    model = ltv.load_model(tmp_path / "m.json")
    frames = {k: read_csv(spark, files[k]) for k in KINDS}
    shuffled = {k: v.orderBy(F.rand(seed=7)).repartition(5) for k, v in frames.items()}
    assert frames["orders"].count() == sum(1 for _ in open(files["orders"])) - 1
    for inputs, parts in ((frames, 1), (shuffled, 3), (shuffled, 7)):
        args = [inputs[k] for k in KINDS]
        feats = ltv.spark.features(*args, cutoff="2025-06-30", horizon="90d", label=True,
                                   partitions=parts)
        assert_same(feats, tmp_path / "f.parquet")
        scores = ltv.spark.score(*args, model=model, as_of="2025-06-30", partitions=parts)
        assert_same(scores, tmp_path / "s.parquet")
    with pytest.raises(ltv.ModelError, match="trained with `events`"):
        ltv.spark.score(frames["orders"], model=model, as_of="2025-06-30")
    # training on the driver from the Spark frames: the CLI's model (files aside)
    trained = ltv.spark.train(*[shuffled[k] for k in KINDS], cutoff="2025-03-31",
                              horizon="90d", model="boosting")
    want = {k: v for k, v in model.info.items() if k != "training_data_sha256"}
    assert {k: v for k, v in trained.info.items() if k != "training_data_sha256"} == want
    sampled = ltv.spark.train(*[frames[k] for k in KINDS], cutoff="2025-03-31",
                              horizon="90d", model="tweedie", sample=0.5)
    assert 0.35 < sampled.info["training_customers"] / model.info["training_customers"] < 0.65


def test_cdnow_features_and_scores_equal_the_clis_from_typed_parquet(spark, tmp_path):
    import ltv
    import ltv.spark

    if not CDNOW.exists():
        pytest.skip("../shared/datasets is not beside the checkout")
    cli("features", "--orders", CDNOW, "--cutoff", "1997-09-30", "--label", "--horizon", "39w",
        "-o", tmp_path / "f.parquet")
    cli("train", "--orders", CDNOW, "--cutoff", "1997-09-30", "--horizon", "39w", "--model",
        "hybrid", "-o", tmp_path / "m.json")
    cli("score", "--model", tmp_path / "m.json", "--orders", CDNOW, "--as-of", "1998-06-30",
        "-o", tmp_path / "s.parquet")
    # typed as a lake holds it: dates and decimals (ids stay text: `00001` is not the integer 1)
    import pyarrow.csv as pcsv

    t = pcsv.read_csv(CDNOW, convert_options=pcsv.ConvertOptions(column_types={
        "customer_id": pa.string(), "ordered_at": pa.date32(), "amount": pa.decimal128(10, 2)}))
    pq.write_table(t, tmp_path / "cdnow.parquet", row_group_size=10_000)
    from pyspark.sql import functions as F

    orders = spark.read.parquet(str(tmp_path / "cdnow.parquet"))
    shuffled = orders.orderBy(F.rand(seed=3)).repartition(4)
    for frame, parts in ((orders, 1), (shuffled, 3), (shuffled, 7)):
        assert_same(ltv.spark.features(frame, cutoff="1997-09-30", horizon="39w", label=True,
                                       partitions=parts), tmp_path / "f.parquet")
    scores = ltv.spark.score(shuffled, model=ltv.load_model(tmp_path / "m.json"),
                             as_of="1998-06-30", partitions=7)
    assert_same(scores, tmp_path / "s.parquet")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, seconds: float = 60) -> None:
    import socket
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def test_a_standalone_cluster_runs_the_job_with_the_wheel_shipped_as_an_archive(spark, messy,
                                                                                tmp_path):
    """A master and two workers on loopback, started here; executors run a Python that has
    pyarrow but not ltv, and import ltv from the wheel shipped with `--archives`, as the
    README says."""
    import subprocess

    from pyspark.find_spark_home import _find_spark_home

    from test_ltv import ROOT

    home = _find_spark_home()
    spark_class = os.path.join(home, "bin", "spark-class")
    # the wheel: `LTV_WHEEL` (the one .ci/run built and installed), else built here
    dist = tmp_path / "dist"
    dist.mkdir()
    if os.environ.get("LTV_WHEEL"):
        wheel = os.environ["LTV_WHEEL"]
    else:
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                        "--disable-pip-version-check", str(ROOT / "python"), "-w", str(dist)],
                       check=True)
        (wheel,) = dist.glob("ltv-*.whl")
    shutil.copy(wheel, dist / "ltv.zip")
    # executors' Python: a venv with pyarrow (this one's, linked in) and no ltv
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    only = tmp_path / "pyarrow_only"
    only.mkdir()
    os.symlink(os.path.dirname(pa.__file__), only / "pyarrow")
    site = subprocess.run([str(bare / "bin" / "python"), "-c",
                           "import site; print(site.getsitepackages()[0])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    with open(os.path.join(site, "pyarrow_only.pth"), "w") as f:
        f.write(str(only) + "\n")
    probe = [str(bare / "bin" / "python"), "-c", "import pyarrow; import ltv"]
    assert b"No module named 'ltv'" in subprocess.run(probe, capture_output=True).stderr
    port = _free_port()
    env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1", SPARK_WORKER_DIR=str(tmp_path / "work"))
    procs = [subprocess.Popen([spark_class, "org.apache.spark.deploy.master.Master", "--host",
                               "127.0.0.1", "--port", str(port), "--webui-port",
                               str(_free_port())], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)]
    try:
        _wait_for_port(port)
        url = f"spark://127.0.0.1:{port}"
        for _ in range(2):
            procs.append(subprocess.Popen(
                [spark_class, "org.apache.spark.deploy.worker.Worker", url, "--host",
                 "127.0.0.1", "--cores", "1", "--memory", "1g", "--webui-port",
                 str(_free_port())], env=env, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL))
        files = paths(messy, "csv")
        out = tmp_path / "out"
        job = subprocess.run(
            [os.path.join(home, "bin", "spark-submit"), "--master", url,
             "--conf", "spark.executor.memory=1g", "--conf", "spark.ui.enabled=false",
             "--conf", f"spark.pyspark.python={bare / 'bin' / 'python'}",
             "--conf", f"spark.pyspark.driver.python={sys.executable}",
             "--archives", f"{dist / 'ltv.zip'}#ltv_wheel",
             "--conf", "spark.executorEnv.PYTHONPATH=ltv_wheel",
             str(ROOT / "python" / "tests" / "spark_jobs" / "features_job.py"),
             files["orders"], files["events"], str(out)],
            env=env, capture_output=True, text=True, timeout=600)
        assert job.returncode == 0, job.stderr[-3000:]
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
    places = (out / "executor_ltv.txt").read_text().split()
    assert places and all("ltv_wheel" in p for p in places), places
    cli("features", "--orders", files["orders"], "--events", files["events"],
        "--cutoff", "2025-06-30", "--horizon", "90d", "--label", "-o", tmp_path / "f.parquet")
    got = spark.read.parquet(str(out / "features"))
    assert_same(got, tmp_path / "f.parquet")
