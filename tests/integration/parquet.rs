//! Parquet in and out: the same data as CSV and as Parquet give the same outputs, every
//! accepted Arrow type reads like its CSV text, bad rows and bad files are located errors, and
//! Parquet outputs read back with pyarrow and polars.
use crate::common::{ltv, shared};
use arrow_array::builder::StringDictionaryBuilder;
use arrow_array::types::Int32Type;
use arrow_array::*;
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use std::fs;
use std::path::Path;
use std::sync::Arc;

/// Writes `columns` as one Parquet file, `rows_per_group` rows per row group.
fn write_parquet(path: &Path, columns: Vec<(&str, ArrayRef)>, rows_per_group: usize) {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch =
        RecordBatch::try_new(schema.clone(), columns.into_iter().map(|c| c.1).collect()).unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(rows_per_group))
        .build();
    let file = fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, schema, Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let r = ltv(dir, args);
    assert_eq!(r.code, 0, "ltv {args:?}: {}", r.stderr);
    r.stdout
}

/// The model file without its input hash (which names the files read).
fn model_without_hash(path: &Path) -> serde_json::Value {
    let mut m: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    m.as_object_mut().unwrap().remove("training_data_sha256");
    m
}

fn inputs(dir: &str, ext: &str) -> Vec<String> {
    ["orders", "events", "customers", "comments"]
        .iter()
        .flat_map(|k| [format!("--{k}"), format!("{dir}/{k}.{ext}")])
        .collect()
}

#[test]
fn csv_and_parquet_give_identical_features_train_score_and_report_at_1_and_2_threads() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(
        p,
        &[
            "synth",
            "--customers",
            "1500",
            "--seed",
            "11",
            "-o",
            "c",
            "-q",
        ],
    );
    ok(
        p,
        &[
            "synth",
            "--customers",
            "1500",
            "--seed",
            "11",
            "-o",
            "p",
            "--format",
            "parquet",
            "-q",
        ],
    );
    for threads in ["1", "2"] {
        let mut outs: Vec<Vec<u8>> = vec![];
        for (dir, ext) in [("c", "csv"), ("p", "parquet")] {
            let inp = inputs(dir, ext);
            let inp: Vec<&str> = inp.iter().map(String::as_str).collect();
            let run = |args: &[&str]| {
                let mut a = vec!["--threads", threads, "-q"];
                a.extend_from_slice(args);
                a.extend_from_slice(&inp);
                ok(p, &a)
            };
            let f = format!("f-{ext}-{threads}.csv");
            run(&[
                "features",
                "--cutoff",
                "2025-06-30",
                "--horizon",
                "90d",
                "--label",
                "-o",
                &f,
            ]);
            let m = format!("m-{ext}-{threads}.json");
            run(&[
                "train",
                "--cutoff",
                "2025-03-31",
                "--horizon",
                "90d",
                "--model",
                "boosting",
                "-o",
                &m,
            ]);
            let s = format!("s-{ext}-{threads}.csv");
            run(&["score", "--model", &m, "--as-of", "2025-06-30", "-o", &s]);
            let r = format!("r-{ext}-{threads}.json");
            let mut rep: Vec<String> = ["--threads", threads, "-q", "report", "--scores", &s]
                .iter()
                .map(|x| x.to_string())
                .collect();
            rep.extend(
                [
                    "--as-of",
                    "2025-06-30",
                    "--format",
                    "json",
                    "-o",
                    &r,
                    "--model",
                    &m,
                ]
                .map(String::from),
            );
            for k in ["orders", "events", "customers"] {
                rep.push(format!("--{k}"));
                rep.push(format!("{dir}/{k}.{ext}"));
            }
            let a: Vec<&str> = rep.iter().map(String::as_str).collect();
            ok(p, &a);
            let mut all = fs::read(p.join(&f)).unwrap();
            all.extend(fs::read(p.join(&s)).unwrap());
            all.extend(fs::read(p.join(&r)).unwrap());
            outs.push(all);
            assert!(
                model_without_hash(&p.join(&m))
                    == model_without_hash(&p.join(format!("m-csv-{threads}.json"))),
                "{m}"
            );
        }
        assert!(
            outs[0] == outs[1],
            "CSV and Parquet outputs differ at --threads {threads}"
        );
    }
    // and across thread counts
    assert_eq!(
        fs::read(p.join("s-parquet-1.csv")).unwrap(),
        fs::read(p.join("s-parquet-2.csv")).unwrap()
    );
}

/// CDNOW's master log as a warehouse would export it: dictionary-encoded string ids, date32
/// days and decimal(10, 2) amounts, in row groups of 10,000.
fn cdnow_parquet(path: &Path) {
    let (_, rows) = crate::common::read_csv(&shared("cdnow/cdnow_master_orders.csv"));
    let mut ids = StringDictionaryBuilder::<Int32Type>::new();
    let mut days = vec![];
    let mut cents = vec![];
    for r in &rows {
        ids.append_value(&r[0]);
        let d = chrono::NaiveDate::parse_from_str(&r[1], "%Y-%m-%d").unwrap();
        days.push((d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32);
        let (w, f) = r[2].split_once('.').unwrap_or((&r[2], "00"));
        cents.push(w.parse::<i128>().unwrap() * 100 + f.parse::<i128>().unwrap());
    }
    write_parquet(
        path,
        vec![
            ("customer_id", Arc::new(ids.finish())),
            ("ordered_at", Arc::new(Date32Array::from(days))),
            (
                "amount",
                Arc::new(
                    Decimal128Array::from(cents)
                        .with_precision_and_scale(10, 2)
                        .unwrap(),
                ),
            ),
        ],
        10_000,
    );
}

#[test]
fn cdnow_as_parquet_gives_the_csv_features_model_scores_and_report() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    cdnow_parquet(&p.join("cdnow.parquet"));
    let csv = shared("cdnow/cdnow_master_orders.csv");
    let csv = csv.to_str().unwrap();
    for threads in ["1", "2"] {
        for (src, tag) in [(csv, "c"), ("cdnow.parquet", "p")] {
            let base = ["--threads", threads, "-q"];
            let f = format!("f{tag}{threads}.csv");
            let m = format!("m{tag}{threads}.json");
            let s = format!("s{tag}{threads}.csv");
            let mut a = base.to_vec();
            a.extend([
                "features",
                "--orders",
                src,
                "--cutoff",
                "1997-09-30",
                "--label",
                "--horizon",
                "39w",
                "-o",
                &f,
            ]);
            ok(p, &a);
            let mut a = base.to_vec();
            a.extend([
                "train",
                "--orders",
                src,
                "--cutoff",
                "1997-09-30",
                "--horizon",
                "39w",
                "--model",
                "tweedie",
                "-o",
                &m,
            ]);
            ok(p, &a);
            let mut a = base.to_vec();
            a.extend([
                "score",
                "--orders",
                src,
                "--model",
                &m,
                "--as-of",
                "1998-06-30",
                "-o",
                &s,
            ]);
            ok(p, &a);
            let r = format!("r{tag}{threads}.csv");
            let mut a = base.to_vec();
            a.extend([
                "report",
                "--orders",
                src,
                "--scores",
                &s,
                "--model",
                &m,
                "--as-of",
                "1998-06-30",
                "--format",
                "json",
                "-o",
                &r,
            ]);
            ok(p, &a);
        }
        for k in ["f", "s", "r"] {
            let c = fs::read(p.join(format!("{k}c{threads}.csv"))).unwrap();
            let q = fs::read(p.join(format!("{k}p{threads}.csv"))).unwrap();
            assert!(c == q, "{k} differs at --threads {threads}");
        }
        assert_eq!(
            model_without_hash(&p.join(format!("mc{threads}.json"))),
            model_without_hash(&p.join(format!("mp{threads}.json")))
        );
    }
    let f = fs::read_to_string(p.join("fp1.csv")).unwrap();
    assert_eq!(f.lines().count(), 23_570 + 1);
}

/// The reference orders as CSV text: ids, instants at +08:00, amounts with up to four decimals.
const IDS: [&str; 4] = ["101", "102", "101", "103"];
const TIMES: [&str; 4] = [
    "2025-01-01T09:00:00+08:00",
    "2025-01-01T23:30:00+08:00",
    "2025-03-05T00:15:00+08:00",
    "2025-06-01T12:00:00+08:00",
];
/// Instants of `TIMES` in UTC seconds.
const SECS: [i64; 4] = [1_735_693_200, 1_735_745_400, 1_741_104_900, 1_748_750_400];
const AMOUNTS: [&str; 4] = ["12.5", "7", "-3.25", "100.0001"];

fn reference_csv(dir: &Path) -> String {
    let mut s = String::from("customer_id,ordered_at,amount\n");
    for i in 0..4 {
        s += &format!("{},{},{}\n", IDS[i], TIMES[i], AMOUNTS[i]);
    }
    fs::write(dir.join("ref.csv"), s).unwrap();
    features_of(dir, "ref.csv", &[])
}

fn features_of(dir: &Path, orders: &str, extra: &[&str]) -> String {
    let mut a = vec![
        "features",
        "--orders",
        orders,
        "--cutoff",
        "2025-06-30",
        "--utc-offset",
        "+08:00",
        "-q",
    ];
    a.extend_from_slice(extra);
    ok(dir, &a)
}

#[test]
fn every_accepted_type_per_column_reads_like_its_csv_text() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let want = reference_csv(p);
    let text_ids: ArrayRef = Arc::new(StringArray::from(IDS.to_vec()));
    let text_times: ArrayRef = Arc::new(StringArray::from(TIMES.to_vec()));
    let text_amounts: ArrayRef = Arc::new(StringArray::from(AMOUNTS.to_vec()));
    let mut dict = StringDictionaryBuilder::<Int32Type>::new();
    for id in IDS {
        dict.append_value(id);
    }
    let ids: Vec<(&str, ArrayRef)> = vec![
        ("utf8", text_ids.clone()),
        ("large_utf8", Arc::new(LargeStringArray::from(IDS.to_vec()))),
        ("utf8_view", Arc::new(StringViewArray::from(IDS.to_vec()))),
        ("dictionary", Arc::new(dict.finish())),
        (
            "int64",
            Arc::new(Int64Array::from(vec![101, 102, 101, 103])),
        ),
        (
            "uint16",
            Arc::new(UInt16Array::from(vec![101, 102, 101, 103])),
        ),
    ];
    let ts = |unit: TimeUnit, per: i64, tz: Option<&str>, shift: i64| -> ArrayRef {
        let raw = Int64Array::from(SECS.iter().map(|s| (s + shift) * per).collect::<Vec<_>>());
        arrow_cast::cast(&raw, &DataType::Timestamp(unit, tz.map(Arc::from))).unwrap()
    };
    let local = 8 * 3600;
    let times: Vec<(&str, ArrayRef)> = vec![
        ("utf8", text_times.clone()),
        ("ts_s_tz", ts(TimeUnit::Second, 1, Some("+08:00"), 0)),
        (
            "ts_ms_utc",
            ts(TimeUnit::Millisecond, 1_000, Some("UTC"), 0),
        ),
        (
            "ts_us_tz",
            ts(TimeUnit::Microsecond, 1_000_000, Some("+08:00"), 0),
        ),
        (
            "ts_ns_tz",
            ts(TimeUnit::Nanosecond, 1_000_000_000, Some("-05:00"), 0),
        ),
        // Naive: wall-clock times at the --utc-offset (+08:00).
        (
            "ts_us_naive",
            ts(TimeUnit::Microsecond, 1_000_000, None, local),
        ),
    ];
    let amounts: Vec<(&str, ArrayRef)> = vec![
        ("utf8", text_amounts.clone()),
        (
            "float64",
            Arc::new(Float64Array::from(vec![12.5, 7.0, -3.25, 100.0001])),
        ),
        (
            "decimal128_4",
            Arc::new(
                Decimal128Array::from(vec![125_000, 70_000, -32_500, 1_000_001])
                    .with_precision_and_scale(12, 4)
                    .unwrap(),
            ),
        ),
        (
            // six decimals: 100.000050 rounds half away from zero to 100.0001, as text would
            "decimal128_6",
            Arc::new(
                Decimal128Array::from(vec![12_500_000, 7_000_000, -3_250_000, 100_000_050])
                    .with_precision_and_scale(20, 6)
                    .unwrap(),
            ),
        ),
        (
            "decimal256_4",
            Arc::new(
                Decimal256Array::from(
                    [125_000i128, 70_000, -32_500, 1_000_001]
                        .iter()
                        .map(|v| arrow_buffer::i256::from_i128(*v))
                        .collect::<Vec<_>>(),
                )
                .with_precision_and_scale(40, 4)
                .unwrap(),
            ),
        ),
    ];
    let mut n = 0;
    for (iname, id) in &ids {
        for (tname, t) in &times {
            for (aname, a) in &amounts {
                // every id type and every time type once, every amount type with each
                if *iname != "utf8" && *tname != "utf8" {
                    continue;
                }
                let f = format!("o-{iname}-{tname}-{aname}.parquet");
                write_parquet(
                    &p.join(&f),
                    vec![
                        ("customer_id", id.clone()),
                        ("ordered_at", t.clone()),
                        ("amount", a.clone()),
                    ],
                    2,
                );
                assert_eq!(features_of(p, &f, &[]), want, "{f}");
                n += 1;
            }
        }
    }
    assert_eq!(n, 5 * 11);
    // Dates (date32, date64, text) count the day at the --utc-offset like a CSV date.
    let day = 20_089; // 2025-01-01
    let days = vec![day, day, day + 63, day + 151];
    let mut date_csv = String::from("customer_id,ordered_at,amount\n");
    for i in 0..4 {
        date_csv += &format!("{},{},{}\n", IDS[i], &TIMES[i][..10], AMOUNTS[i]);
    }
    fs::write(p.join("dates.csv"), date_csv).unwrap();
    let want_dates = features_of(p, "dates.csv", &[]);
    let d32: ArrayRef = Arc::new(Date32Array::from(days.clone()));
    let d64: ArrayRef = Arc::new(Date64Array::from(
        days.iter()
            .map(|d| i64::from(*d) * 86_400_000)
            .collect::<Vec<_>>(),
    ));
    for (name, col) in [("date32", d32), ("date64", d64)] {
        let f = format!("{name}.parquet");
        write_parquet(
            &p.join(&f),
            vec![
                ("customer_id", text_ids.clone()),
                ("ordered_at", col),
                ("amount", text_amounts.clone()),
            ],
            3,
        );
        assert_eq!(features_of(p, &f, &[]), want_dates, "{f}");
    }
}

#[test]
fn map_by_column_name_and_input_format_override() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let want = reference_csv(p);
    write_parquet(
        &p.join("export.dat"),
        vec![
            (
                "user_id",
                Arc::new(StringArray::from(IDS.to_vec())) as ArrayRef,
            ),
            ("pay_time", Arc::new(StringArray::from(TIMES.to_vec()))),
            ("gmv", Arc::new(StringArray::from(AMOUNTS.to_vec()))),
            ("unused", Arc::new(BooleanArray::from(vec![true; 4]))),
        ],
        10,
    );
    let map = [
        "--map",
        "customer_id=user_id,ordered_at=pay_time,amount=gmv",
    ];
    // Found by its magic bytes, and by the flag.
    assert_eq!(features_of(p, "export.dat", &map), want);
    let mut a = map.to_vec();
    a.extend(["--input-format", "parquet"]);
    assert_eq!(features_of(p, "export.dat", &a), want);
    // Read as CSV, it is not CSV: an error, not garbage.
    let r = ltv(
        p,
        &[
            "features",
            "--orders",
            "export.dat",
            "--cutoff",
            "2025-06-30",
            "--input-format",
            "csv",
            "--map",
            map[1],
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    // An unmapped required column names what was found.
    let r = ltv(
        p,
        &[
            "features",
            "--orders",
            "export.dat",
            "--cutoff",
            "2025-06-30",
        ],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("missing required column `customer_id`")
            && r.stderr.contains("user_id,pay_time,gmv,unused"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_directory_of_parts_reads_like_one_file() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let want = reference_csv(p);
    fs::create_dir(p.join("orders")).unwrap();
    for (i, range) in [(0usize, 0..1usize), (1, 1..4)] {
        write_parquet(
            &p.join(format!("orders/part-0000{i}-abc.snappy.parquet")),
            vec![
                (
                    "customer_id",
                    Arc::new(StringArray::from(IDS[range.clone()].to_vec())) as ArrayRef,
                ),
                (
                    "ordered_at",
                    Arc::new(StringArray::from(TIMES[range.clone()].to_vec())),
                ),
                (
                    "amount",
                    Arc::new(StringArray::from(AMOUNTS[range].to_vec())),
                ),
            ],
            2,
        );
    }
    fs::write(p.join("orders/_SUCCESS"), "").unwrap();
    fs::write(p.join("orders/.part-00000-abc.snappy.parquet.crc"), "junk").unwrap();
    assert_eq!(features_of(p, "orders", &[]), want);
    fs::create_dir(p.join("empty")).unwrap();
    let r = ltv(
        p,
        &["features", "--orders", "empty", "--cutoff", "2025-06-30"],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no Parquet files"), "{}", r.stderr);
}

#[test]
fn nulls_in_required_columns_are_bad_rows_located_by_row_group_and_row() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let n = 10;
    let ids: Vec<Option<String>> = (0..n).map(|i| Some(format!("C{i}"))).collect();
    let mut amounts: Vec<Option<f64>> = (0..n).map(|i| Some(i as f64)).collect();
    amounts[7] = None; // row group 1 (rows 4..8), row 3; file row 7
    let mut channel: Vec<Option<&str>> = vec![Some("app"); n];
    channel[2] = None; // optional: a null is an absent value
    write_parquet(
        &p.join("o.parquet"),
        vec![
            ("customer_id", Arc::new(StringArray::from(ids)) as ArrayRef),
            ("ordered_at", Arc::new(Date32Array::from(vec![20_089; n]))),
            ("amount", Arc::new(Float64Array::from(amounts))),
            ("channel", Arc::new(StringArray::from(channel))),
        ],
        4,
    );
    let r = ltv(
        p,
        &[
            "features",
            "--orders",
            "o.parquet",
            "--cutoff",
            "2025-06-30",
        ],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(
            "o.parquet: row 7 (row group 1, row 3): column 3 `amount`: missing value (null)"
        ),
        "{}",
        r.stderr
    );
    let r = ltv(
        p,
        &[
            "features",
            "--orders",
            "o.parquet",
            "--cutoff",
            "2025-06-30",
            "--on-bad-rows",
            "skip",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 1 + 9);
    assert!(
        r.stderr.contains("skipped 1 bad row of 10") && r.stderr.contains("row group 1, row 3"),
        "{}",
        r.stderr
    );
    // A null id and a bad text timestamp, located the same way.
    write_parquet(
        &p.join("o2.parquet"),
        vec![
            (
                "customer_id",
                Arc::new(StringArray::from(vec![Some("A"), None])) as ArrayRef,
            ),
            (
                "ordered_at",
                Arc::new(StringArray::from(vec!["2025-01-01", "2025-01-01"])),
            ),
            ("amount", Arc::new(Int32Array::from(vec![1, 2]))),
        ],
        10,
    );
    let r = ltv(
        p,
        &[
            "features",
            "--orders",
            "o2.parquet",
            "--cutoff",
            "2025-06-30",
        ],
    );
    assert!(
        r.code == 1
            && r.stderr
                .contains("row 1 (row group 0, row 1): column 1 `customer_id`"),
        "{}",
        r.stderr
    );
    write_parquet(
        &p.join("o3.parquet"),
        vec![
            (
                "customer_id",
                Arc::new(StringArray::from(vec!["A", "B"])) as ArrayRef,
            ),
            (
                "ordered_at",
                Arc::new(StringArray::from(vec!["2025-01-01", "2025-13-01"])),
            ),
            ("amount", Arc::new(Int32Array::from(vec![1, 2]))),
        ],
        10,
    );
    let r = ltv(
        p,
        &[
            "features",
            "--orders",
            "o3.parquet",
            "--cutoff",
            "2025-06-30",
        ],
    );
    assert!(
        r.code == 1
            && r.stderr
                .contains("column 2 `ordered_at`: unparsable timestamp: `2025-13-01`"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_wrong_type_names_the_column_the_type_and_the_types_accepted() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    write_parquet(
        &p.join("o.parquet"),
        vec![
            (
                "customer_id",
                Arc::new(StringArray::from(vec!["A"])) as ArrayRef,
            ),
            ("ordered_at", Arc::new(Date32Array::from(vec![20_089]))),
            ("amount", Arc::new(BooleanArray::from(vec![true]))),
        ],
        10,
    );
    let r = ltv(
        p,
        &[
            "features",
            "--orders",
            "o.parquet",
            "--cutoff",
            "2025-06-30",
        ],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("column `amount`: type Boolean is not accepted (accepted: an integer, float or decimal type, or strings)"),
        "{}",
        r.stderr
    );
    write_parquet(
        &p.join("t.parquet"),
        vec![
            (
                "customer_id",
                Arc::new(Float64Array::from(vec![1.5])) as ArrayRef,
            ),
            ("ordered_at", Arc::new(Float64Array::from(vec![1.0]))),
            ("amount", Arc::new(Int8Array::from(vec![1]))),
        ],
        10,
    );
    let r = ltv(
        p,
        &[
            "features",
            "--orders",
            "t.parquet",
            "--cutoff",
            "2025-06-30",
        ],
    );
    assert!(
        r.code == 1
            && r.stderr
                .contains("column `customer_id`: type Float64 is not accepted"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_truncated_or_corrupt_parquet_file_is_an_error_not_a_panic() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let n = 5_000;
    write_parquet(
        &p.join("good.parquet"),
        vec![
            (
                "customer_id",
                Arc::new(StringArray::from(
                    (0..n).map(|i| format!("C{}", i % 977)).collect::<Vec<_>>(),
                )) as ArrayRef,
            ),
            (
                "ordered_at",
                Arc::new(Date32Array::from(
                    (0..n).map(|i| 20_000 + i % 300).collect::<Vec<_>>(),
                )),
            ),
            (
                "amount",
                Arc::new(Float64Array::from(
                    (0..n).map(|i| f64::from(i % 91)).collect::<Vec<_>>(),
                )),
            ),
        ],
        1_000,
    );
    let good = fs::read(p.join("good.parquet")).unwrap();
    let mut cases: Vec<(String, Vec<u8>)> = vec![];
    for cut in [0, 3, 4, 100, good.len() / 2, good.len() - 9, good.len() - 1] {
        cases.push((format!("truncated at {cut}"), good[..cut].to_vec()));
    }
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    for k in 0..40 {
        let mut bad = good.clone();
        for _ in 0..(1 + k % 4) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let i = (x as usize) % bad.len();
            bad[i] ^= (x >> 32) as u8 | 1;
        }
        cases.push((format!("corrupt {k}"), bad));
    }
    let mut errors = 0;
    for (what, bytes) in &cases {
        fs::write(p.join("bad.parquet"), bytes).unwrap();
        let r = ltv(
            p,
            &[
                "features",
                "--orders",
                "bad.parquet",
                "--cutoff",
                "2025-06-30",
            ],
        );
        assert!(
            r.code == 0 || r.code == 1,
            "{what}: exit {} {}",
            r.code,
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"), "{what}: {}", r.stderr);
        if r.code == 1 {
            errors += 1;
            assert!(r.stderr.contains("bad.parquet"), "{what}: {}", r.stderr);
        }
    }
    // Every truncation is caught; a flipped bit inside compressed data may decode to other
    // valid values (Parquet has no checksums by default), but most are caught too.
    eprintln!(
        "{errors} of {} damaged files were errors, the rest read",
        cases.len()
    );
    assert!(
        errors >= 7 + 20,
        "{errors} of {} cases were errors",
        cases.len()
    );
}

#[test]
fn parquet_outputs_are_deterministic_and_typed() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(
        p,
        &[
            "synth",
            "--customers",
            "800",
            "--seed",
            "3",
            "-o",
            "p",
            "--format",
            "parquet",
            "-q",
        ],
    );
    let inp = inputs("p", "parquet");
    let inp: Vec<&str> = inp.iter().map(String::as_str).collect();
    for threads in ["1", "2"] {
        let mut a = vec![
            "--threads",
            threads,
            "-q",
            "features",
            "--cutoff",
            "2025-06-30",
            "--label",
            "-o",
        ];
        let out = format!("f{threads}.parquet");
        a.push(&out);
        a.extend_from_slice(&inp);
        ok(p, &a);
    }
    let f1 = fs::read(p.join("f1.parquet")).unwrap();
    assert_eq!(f1, fs::read(p.join("f2.parquet")).unwrap());
    // Read back with the arrow-rs reader: the promised types.
    let file = fs::File::open(p.join("f1.parquet")).unwrap();
    let reader =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let schema = reader.schema().clone();
    let t = |n: &str| schema.field_with_name(n).unwrap().data_type().clone();
    assert_eq!(t("customer_id"), DataType::Utf8);
    assert_eq!(t("orders_total"), DataType::Int64);
    assert_eq!(t("spend_total"), DataType::Float64);
    assert_eq!(
        t("first_order_at"),
        DataType::Timestamp(TimeUnit::Millisecond, Some("+08:00".into()))
    );
    assert!(matches!(t("lifecycle_stage"), DataType::Dictionary(..)));
    assert!(matches!(t("rfm_segment"), DataType::Dictionary(..)));
}

/// A Python with pyarrow and polars: `LTV_PYTHON`, else `python3` if it has both.
fn python_with_pyarrow() -> Option<String> {
    let candidates = [
        std::env::var("LTV_PYTHON").ok(),
        Some("python3".to_string()),
    ];
    candidates.into_iter().flatten().find(|py| {
        std::process::Command::new(py)
            .args(["-c", "import pyarrow, polars"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn parquet_outputs_read_back_with_pyarrow_and_polars() {
    let Some(py) = python_with_pyarrow() else {
        assert!(
            std::env::var_os("LTV_REQUIRE_PYARROW").is_none(),
            "LTV_REQUIRE_PYARROW is set but no python with pyarrow and polars was found (set LTV_PYTHON)"
        );
        eprintln!("skipped: no python with pyarrow and polars (set LTV_PYTHON to run it)");
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(
        p,
        &[
            "synth",
            "--customers",
            "1000",
            "--seed",
            "5",
            "-o",
            "p",
            "--format",
            "parquet",
            "-q",
        ],
    );
    let inp = inputs("p", "parquet");
    let inp: Vec<&str> = inp.iter().map(String::as_str).collect();
    for out in ["f.csv", "f.parquet"] {
        let mut a = vec![
            "-q",
            "features",
            "--cutoff",
            "2025-06-30",
            "--label",
            "--horizon",
            "90d",
            "-o",
            out,
        ];
        a.extend_from_slice(&inp);
        ok(p, &a);
    }
    let mut a = vec![
        "-q",
        "train",
        "--cutoff",
        "2025-03-31",
        "--horizon",
        "90d",
        "--model",
        "tweedie",
        "-o",
        "m.json",
    ];
    a.extend_from_slice(&inp[..4]);
    ok(p, &a);
    for out in ["s.csv", "s.parquet"] {
        let mut a = vec![
            "-q",
            "score",
            "--model",
            "m.json",
            "--as-of",
            "2025-06-30",
            "-o",
            out,
        ];
        a.extend_from_slice(&inp[..4]);
        ok(p, &a);
    }
    for out in ["c.csv", "c.parquet"] {
        ok(
            p,
            &[
                "-q",
                "sentiment",
                "score",
                "--comments",
                "p/comments.parquet",
                "-o",
                out,
            ],
        );
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/parquet_readback.py");
    for (kind, csv, pq) in [
        ("features", "f.csv", "f.parquet"),
        ("scores", "s.csv", "s.parquet"),
        ("sentiment", "c.csv", "c.parquet"),
    ] {
        let out = std::process::Command::new(&py)
            .arg(&script)
            .args([kind, csv, pq])
            .current_dir(p)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{kind}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("0 problems"), "{text}");
    }
    // The tiers and the report read Parquet scores too.
    let a = ok(
        p,
        &[
            "-q",
            "report",
            "--scores",
            "s.parquet",
            "--orders",
            "p/orders.parquet",
            "--as-of",
            "2025-06-30",
            "--format",
            "json",
        ],
    );
    let b = ok(
        p,
        &[
            "-q",
            "report",
            "--scores",
            "s.csv",
            "--orders",
            "p/orders.parquet",
            "--as-of",
            "2025-06-30",
            "--format",
            "json",
        ],
    );
    // The same report, apart from value sums (Parquet keeps every bit; CSV six decimals).
    let mut a: serde_json::Value = serde_json::from_str(&a).unwrap();
    let mut b: serde_json::Value = serde_json::from_str(&b).unwrap();
    let (ta, tb) = (a["tiers"].take(), b["tiers"].take());
    assert_eq!(a, b);
    for (x, y) in ta.as_array().unwrap().iter().zip(tb.as_array().unwrap()) {
        assert_eq!(x["customers"], y["customers"]);
        let (vx, vy) = (
            x["predicted_value"].as_f64().unwrap(),
            y["predicted_value"].as_f64().unwrap(),
        );
        assert!((vx - vy).abs() <= 1e-6 * 2000.0, "{vx} {vy}");
    }
}
