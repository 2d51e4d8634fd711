//! Arrow columns as contract fields: which Arrow types each contract column accepts, and typed
//! access to one row's value (text, instant, money amount) with the same meaning as the CSV
//! text of that value.
use crate::data::amount::parse_amount;
use crate::data::options::{InputKind, ReadOptions};
use crate::data::time::TimeParser;
use crate::data::InputError;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Decimal128Type, Decimal256Type, Float64Type, Int64Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt64Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema, TimeUnit};
use std::path::Path;

/// What a contract column holds, which decides the Arrow types it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Ids, channels, event names, comment text: strings (plain, large, view or dictionary) or
    /// integers (read as their decimal text).
    Text,
    /// Instants: timestamps (any unit, with or without a time zone), date32/date64, or strings
    /// parsed like CSV fields.
    Time,
    /// Money amounts and ratings: integers, floats, decimals, or strings parsed like CSV fields.
    Number,
}

impl Role {
    /// The role of a contract column (by its contract name).
    pub fn of(name: &str) -> Role {
        if name.ends_with("_at") {
            Role::Time
        } else if matches!(name, "amount" | "rating") {
            Role::Number
        } else {
            Role::Text
        }
    }

    /// The accepted Arrow types, for messages.
    pub fn accepted(self) -> &'static str {
        match self {
            Role::Text => "utf8, large_utf8, utf8_view, dictionary of strings, or an integer type",
            Role::Time => {
                "timestamp (s/ms/us/ns, with or without a time zone), date32, date64, or strings"
            }
            Role::Number => "an integer, float or decimal type, or strings",
        }
    }

    fn accepts(self, t: &DataType) -> bool {
        let stringy = is_string(t);
        match self {
            Role::Text => stringy || t.is_integer(),
            Role::Time => {
                stringy
                    || matches!(
                        t,
                        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64
                    )
            }
            Role::Number => {
                stringy
                    || t.is_integer()
                    || t.is_floating()
                    || matches!(
                        t,
                        DataType::Decimal32(..)
                            | DataType::Decimal64(..)
                            | DataType::Decimal128(..)
                            | DataType::Decimal256(..)
                    )
            }
        }
    }
}

fn is_string(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(k, v) => k.is_integer() && is_string(v),
        _ => false,
    }
}

/// How a columnar input's columns map onto the contract: for each contract column, the index
/// of the source column (`None` when absent) and the source's name, checked against the types
/// the contract column accepts.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Contract column → source column index.
    pub columns: Vec<Option<usize>>,
    /// Per contract column, the name in the source (the contract name if absent).
    pub names: Vec<String>,
    roles: Vec<Role>,
}

/// Matches `schema` against `kind`'s contract columns (through `opts.columns`' mapping): a
/// missing required (or mapped) column, a duplicated name or a type the column does not accept
/// is an error naming the column.
pub fn resolve(
    path: &Path,
    schema: &Schema,
    kind: InputKind,
    opts: &ReadOptions,
) -> Result<Resolved, InputError> {
    let names_found: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let mut out = Resolved {
        columns: vec![],
        names: vec![],
        roles: vec![],
    };
    for spec in kind.columns() {
        let want = opts.columns.source_name(spec.name);
        let mut hits = names_found.iter().enumerate().filter(|(_, n)| **n == want);
        let found = hits.next().map(|(i, _)| i);
        if hits.next().is_some() {
            return Err(InputError::file(
                path,
                want,
                "duplicate column name in the schema: which one to read is ambiguous",
                names_found.join(","),
            ));
        }
        let role = Role::of(spec.name);
        // A column no parser reads is neither type-checked nor decoded.
        let found = found.filter(|_| spec.read);
        match found {
            None if spec.required || opts.columns.is_mapped(spec.name) => {
                let label = if want == spec.name {
                    format!("`{}`", spec.name)
                } else {
                    format!("`{want}` (mapped to `{}`)", spec.name)
                };
                return Err(InputError::file(
                    path,
                    want,
                    format!(
                        "missing required column {label} in the {} schema; found",
                        kind.name()
                    ),
                    names_found.join(","),
                ));
            }
            Some(i) => {
                let t = schema.field(i).data_type();
                if !role.accepts(t) {
                    return Err(InputError::file(
                        path,
                        want,
                        format!("type {t} is not accepted (accepted: {})", role.accepted()),
                        "",
                    ));
                }
            }
            None => {}
        }
        out.columns.push(found);
        out.names.push(want.to_string());
        out.roles.push(role);
    }
    Ok(out)
}

impl Resolved {
    /// The source columns to read (for a projection), sorted.
    pub fn projection(&self) -> Vec<usize> {
        let mut p: Vec<usize> = self.columns.iter().flatten().copied().collect();
        p.sort_unstable();
        p
    }

    /// Typed views of `batch`'s columns, one per contract column (`None` when absent).
    /// `batch` must have the schema this was resolved from, or its projection (`projected`).
    pub fn views(&self, batch: &RecordBatch, projected: bool) -> Result<Vec<Option<View>>, String> {
        let proj = self.projection();
        self.columns
            .iter()
            .zip(&self.roles)
            .map(|(c, role)| {
                let Some(i) = *c else { return Ok(None) };
                let i = if projected {
                    proj.iter()
                        .position(|&p| p == i)
                        .ok_or("projection mismatch")?
                } else {
                    i
                };
                let col = batch
                    .columns()
                    .get(i)
                    .ok_or("column missing from a batch")?;
                View::new(col.clone(), *role).map(Some)
            })
            .collect()
    }
}

/// A string column in one of Arrow's layouts.
#[derive(Debug)]
enum Strings {
    Utf8(arrow_array::StringArray),
    Large(arrow_array::LargeStringArray),
    View(arrow_array::StringViewArray),
    /// Dictionary-encoded: each row's key into `values` (keys widened to i32, values as
    /// plain strings; the rows' strings are never materialised).
    Dict {
        keys: arrow_buffer::ScalarBuffer<i32>,
        values: arrow_array::StringArray,
    },
}

impl Strings {
    fn new(col: &ArrayRef) -> Result<Strings, String> {
        if let DataType::Dictionary(_, value_type) = col.data_type() {
            let want = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
            let d = if col.data_type() == &want {
                col.clone()
            } else {
                arrow_cast::cast(col, &want).map_err(|e| e.to_string())?
            };
            let d = d
                .as_dictionary_opt::<arrow_array::types::Int32Type>()
                .ok_or_else(|| format!("not a dictionary of strings: {value_type}"))?;
            return Ok(Strings::Dict {
                keys: d.keys().values().clone(),
                values: d.values().as_string::<i32>().clone(),
            });
        }
        Ok(match col.data_type() {
            DataType::Utf8 => Strings::Utf8(col.as_string::<i32>().clone()),
            DataType::LargeUtf8 => Strings::Large(col.as_string::<i64>().clone()),
            DataType::Utf8View => Strings::View(col.as_string_view().clone()),
            t => return Err(format!("not a string column: {t}")),
        })
    }

    /// The text of a non-null row.
    #[inline]
    fn value(&self, row: usize) -> &[u8] {
        match self {
            Strings::Utf8(a) => a.value(row).as_bytes(),
            Strings::Large(a) => a.value(row).as_bytes(),
            Strings::View(a) => a.value(row).as_bytes(),
            Strings::Dict { keys, values } => {
                let k = usize::try_from(keys[row]).unwrap_or(usize::MAX);
                if k < values.len() {
                    values.value(k).as_bytes()
                } else {
                    b""
                }
            }
        }
    }

    /// Whether the UTF-8 byte-order mark occurs anywhere in the column's text.
    fn has_bom(&self) -> bool {
        const BOM: &[u8] = b"\xEF\xBB\xBF";
        match self {
            Strings::Utf8(a) => memchr::memmem::find(a.values(), BOM).is_some(),
            Strings::Large(a) => memchr::memmem::find(a.values(), BOM).is_some(),
            Strings::View(a) => (0..a.len()).any(|i| a.value(i).contains('\u{feff}')),
            Strings::Dict { values, .. } => memchr::memmem::find(values.values(), BOM).is_some(),
        }
    }
}

/// The values of one column of one batch, ready for per-row access.
#[derive(Debug)]
enum Values {
    Text(Strings),
    Int(arrow_array::Int64Array),
    UInt(arrow_array::UInt64Array),
    Float(arrow_array::Float64Array),
    Decimal(arrow_array::Decimal128Array, i8),
    Decimal256(arrow_array::Decimal256Array, i8),
    /// Timestamps as integers in units of `1 / per_second` s; `zoned` when the type carries a
    /// time zone (the values are then UTC instants; otherwise local wall-clock times).
    Timestamp {
        values: arrow_buffer::ScalarBuffer<i64>,
        per_second: i64,
        zoned: bool,
    },
    Date32(arrow_buffer::ScalarBuffer<i32>),
    Date64(arrow_buffer::ScalarBuffer<i64>),
}

/// One column of one batch, typed for its contract role.
#[derive(Debug)]
pub struct View {
    original: ArrayRef,
    values: Values,
}

fn cast(col: &ArrayRef, to: &DataType) -> Result<ArrayRef, String> {
    arrow_cast::cast(col, to).map_err(|e| e.to_string())
}

impl View {
    /// A view of `col` for a column with `role` (whose type [`resolve`] accepted).
    pub fn new(col: ArrayRef, role: Role) -> Result<View, String> {
        let t = col.data_type().clone();
        let values = if is_string(&t) {
            Values::Text(Strings::new(&col)?)
        } else {
            match (role, &t) {
                (Role::Text, t) if t.is_integer() => {
                    Values::Text(Strings::new(&cast(&col, &DataType::Utf8)?)?)
                }
                (Role::Number, DataType::UInt64) => {
                    Values::UInt(col.as_primitive::<UInt64Type>().clone())
                }
                (Role::Number, t) if t.is_integer() => Values::Int(
                    cast(&col, &DataType::Int64)?
                        .as_primitive::<Int64Type>()
                        .clone(),
                ),
                (Role::Number, t) if t.is_floating() => Values::Float(
                    cast(&col, &DataType::Float64)?
                        .as_primitive::<Float64Type>()
                        .clone(),
                ),
                (Role::Number, DataType::Decimal128(_, s)) => {
                    Values::Decimal(col.as_primitive::<Decimal128Type>().clone(), *s)
                }
                (Role::Number, DataType::Decimal32(p, s) | DataType::Decimal64(p, s)) => {
                    // Widening a decimal is exact.
                    let wide = cast(&col, &DataType::Decimal128((*p).max(1), *s))?;
                    Values::Decimal(wide.as_primitive::<Decimal128Type>().clone(), *s)
                }
                (Role::Number, DataType::Decimal256(_, s)) => {
                    Values::Decimal256(col.as_primitive::<Decimal256Type>().clone(), *s)
                }
                (Role::Time, DataType::Timestamp(unit, tz)) => {
                    let (values, per_second) = match unit {
                        TimeUnit::Second => (
                            col.as_primitive::<TimestampSecondType>().values().clone(),
                            1,
                        ),
                        TimeUnit::Millisecond => (
                            col.as_primitive::<TimestampMillisecondType>()
                                .values()
                                .clone(),
                            1_000,
                        ),
                        TimeUnit::Microsecond => (
                            col.as_primitive::<TimestampMicrosecondType>()
                                .values()
                                .clone(),
                            1_000_000,
                        ),
                        TimeUnit::Nanosecond => (
                            col.as_primitive::<TimestampNanosecondType>()
                                .values()
                                .clone(),
                            1_000_000_000,
                        ),
                    };
                    Values::Timestamp {
                        values,
                        per_second,
                        zoned: tz.is_some(),
                    }
                }
                (Role::Time, DataType::Date32) => Values::Date32(
                    col.as_primitive::<arrow_array::types::Date32Type>()
                        .values()
                        .clone(),
                ),
                (Role::Time, DataType::Date64) => Values::Date64(
                    col.as_primitive::<arrow_array::types::Date64Type>()
                        .values()
                        .clone(),
                ),
                (_, t) => return Err(format!("type {t} is not accepted here")),
            }
        };
        Ok(View {
            original: col,
            values,
        })
    }

    /// Whether row `row` is null.
    #[inline]
    pub fn is_null(&self, row: usize) -> bool {
        self.original.is_null(row)
    }

    /// Whether the column is text that contains a byte-order mark somewhere.
    pub fn has_bom(&self) -> bool {
        matches!(&self.values, Values::Text(s) if s.has_bom())
    }

    /// The text of row `row` (`b""` for a null), or `None` for a column that is not text.
    #[inline]
    pub fn text(&self, row: usize) -> Option<&[u8]> {
        match &self.values {
            Values::Text(_) if self.original.is_null(row) => Some(b""),
            Values::Text(s) => Some(s.value(row)),
            _ => None,
        }
    }

    /// Whether row `row` is null or blank text (an absent optional value).
    #[inline]
    pub fn is_blank(&self, row: usize) -> bool {
        self.is_null(row) || self.text(row).is_some_and(|t| t.trim_ascii().is_empty())
    }

    /// The instant (UTC seconds) of row `row`: a zoned timestamp is taken as is, a naive one
    /// or a date is local time at `time`'s offset, text is parsed by `time` as in CSV.
    /// Sub-second parts are dropped (floor), as for CSV text. `Err` names what is wrong.
    #[inline]
    pub fn instant(&self, row: usize, time: &TimeParser) -> Result<i64, &'static str> {
        if self.is_null(row) {
            return Err("missing value (null)");
        }
        let local_to_utc = |local: i64| local.checked_sub(time.utc_offset_seconds());
        let v = match &self.values {
            Values::Text(s) => time.parse(s.value(row)),
            Values::Timestamp {
                values,
                per_second,
                zoned,
            } => {
                let secs = values[row].div_euclid(*per_second);
                if *zoned {
                    Some(secs)
                } else {
                    local_to_utc(secs)
                }
            }
            Values::Date32(d) => Some(time.day_start(i64::from(d[row]))),
            Values::Date64(ms) => local_to_utc(ms[row].div_euclid(1000)),
            _ => None,
        };
        v.ok_or("unparsable timestamp")
    }

    /// The money amount of row `row` in fixed-point units (1/10,000), with CSV's rules: exact
    /// for integers and decimals (digits past the fourth decimal rounded half away from zero),
    /// a float as its shortest decimal text, text parsed like a CSV field.
    #[inline]
    pub fn amount(&self, row: usize) -> Result<i64, &'static str> {
        if self.is_null(row) {
            return Err("missing value (null)");
        }
        let v = match &self.values {
            Values::Text(s) => parse_amount(s.value(row)),
            Values::Int(a) => units_of_integer(i128::from(a.value(row))),
            Values::UInt(a) => units_of_integer(i128::from(a.value(row))),
            Values::Float(a) => {
                let v = a.value(row);
                if v.is_finite() {
                    parse_amount(shortest_text(v).as_bytes())
                } else {
                    None
                }
            }
            Values::Decimal(a, scale) => units_of_decimal(a.value(row), *scale),
            Values::Decimal256(a, scale) => a
                .value(row)
                .to_i128()
                .and_then(|v| units_of_decimal(v, *scale)),
            _ => None,
        };
        v.ok_or("not a number")
    }

    /// Row `row` as text for messages (`null` for a null).
    pub fn display(&self, row: usize) -> String {
        if self.is_null(row) {
            return "null".into();
        }
        let opts = arrow_cast::display::FormatOptions::default();
        match arrow_cast::display::ArrayFormatter::try_new(self.original.as_ref(), &opts) {
            Ok(f) => f.value(row).to_string(),
            Err(_) => String::new(),
        }
    }
}

/// The largest whole amount `parse_amount` accepts.
const MAX_WHOLE_AMOUNT: i128 = 900_000_000_000_000;

fn units_of_integer(v: i128) -> Option<i64> {
    if v.abs() > MAX_WHOLE_AMOUNT {
        return None;
    }
    i64::try_from(v * i128::from(crate::data::amount::AMOUNT_SCALE)).ok()
}

/// A decimal `v × 10^-scale` in units of 1/10,000, rounded half away from zero past the fourth
/// decimal (as [`parse_amount`] rounds text).
fn units_of_decimal(v: i128, scale: i8) -> Option<i64> {
    let shift = 4 - i32::from(scale);
    let units = if shift >= 0 {
        v.checked_mul(10i128.checked_pow(shift as u32)?)?
    } else {
        let d = 10i128.checked_pow((-shift) as u32)?;
        let (q, r) = (v / d, (v % d).abs());
        if r * 2 >= d {
            q + v.signum()
        } else {
            q
        }
    };
    if units.abs() / 10_000 > MAX_WHOLE_AMOUNT {
        return None;
    }
    i64::try_from(units).ok()
}

/// The shortest decimal text that reads back as `v` (what a CSV export of a float writes).
fn shortest_text(v: f64) -> String {
    // `Display` of f64 is the shortest round-trip text, without an exponent.
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::builder::*;
    use arrow_array::*;
    use std::sync::Arc;

    fn amounts(col: ArrayRef) -> Vec<Result<i64, &'static str>> {
        let v = View::new(col, Role::Number).unwrap();
        (0..v.original.len()).map(|i| v.amount(i)).collect()
    }

    #[test]
    fn decimals_are_exact_and_round_half_away_from_zero_like_text() {
        let d = Decimal128Array::from(vec![
            Some(1999),
            Some(-1999),
            Some(123_456_785),
            Some(-123_456_785),
            Some(123_456_784),
            None,
        ])
        .with_precision_and_scale(20, 2)
        .unwrap();
        let got = amounts(Arc::new(d));
        assert_eq!(got[0], Ok(199_900));
        assert_eq!(got[1], Ok(-199_900));
        assert_eq!(got[5], Err("missing value (null)"));
        let d5 = Decimal128Array::from(vec![123_456_785i128, -123_456_785, 123_456_784])
            .with_precision_and_scale(20, 5)
            .unwrap();
        let got = amounts(Arc::new(d5));
        // 1234.56785 → 1234.5679 (half away from zero), as parse_amount reads the same text.
        for (g, text) in got.iter().zip(["1234.56785", "-1234.56785", "1234.56784"]) {
            assert_eq!(
                *g,
                parse_amount(text.as_bytes()).ok_or("not a number"),
                "{text}"
            );
        }
        assert_eq!(got[0], Ok(12_345_679));
        let neg = Decimal128Array::from(vec![12i128])
            .with_precision_and_scale(5, -3)
            .unwrap();
        assert_eq!(amounts(Arc::new(neg)), vec![Ok(120_000_000)]);
    }

    #[test]
    fn integers_floats_and_text_agree_with_csv_text() {
        let ints = amounts(Arc::new(Int32Array::from(vec![7, -3])));
        assert_eq!(ints, vec![Ok(70_000), Ok(-30_000)]);
        let big = amounts(Arc::new(UInt64Array::from(vec![u64::MAX])));
        assert_eq!(big, vec![Err("not a number")]);
        let floats = amounts(Arc::new(Float64Array::from(vec![
            19.99,
            0.1 + 0.2,
            f64::NAN,
        ])));
        assert_eq!(floats[0], Ok(199_900));
        assert_eq!(floats[1], parse_amount(b"0.30000000000000004").ok_or("x"));
        assert_eq!(floats[2], Err("not a number"));
        let f32s = amounts(Arc::new(Float32Array::from(vec![2.5f32])));
        assert_eq!(f32s, vec![Ok(25_000)]);
        let text = amounts(Arc::new(StringArray::from(vec!["12.5", "x"])));
        assert_eq!(text, vec![Ok(125_000), Err("not a number")]);
    }

    #[test]
    fn timestamps_zoned_naive_and_dates() {
        let t8 = TimeParser::new(crate::data::TimeFormat::Rfc3339, 8 * 3600);
        // 2025-01-02T00:30:00Z in every unit, zoned and naive.
        let secs = 1_735_777_800i64;
        for (unit, per) in [
            (TimeUnit::Second, 1i64),
            (TimeUnit::Millisecond, 1_000),
            (TimeUnit::Microsecond, 1_000_000),
            (TimeUnit::Nanosecond, 1_000_000_000),
        ] {
            let raw = Int64Array::from(vec![secs * per + per / 2]);
            for tz in [Some("+08:00"), None] {
                let t = DataType::Timestamp(unit, tz.map(Arc::from));
                let col = arrow_cast::cast(&raw, &t).unwrap();
                let v = View::new(col, Role::Time).unwrap();
                let want = if tz.is_some() { secs } else { secs - 8 * 3600 };
                assert_eq!(v.instant(0, &t8), Ok(want), "{unit:?} {tz:?}");
            }
        }
        let day = 20_090i32; // 2025-01-02
        let d32 = View::new(Arc::new(Date32Array::from(vec![day])), Role::Time).unwrap();
        let text = t8.parse(b"2025-01-02").unwrap();
        assert_eq!(d32.instant(0, &t8), Ok(text));
        let d64 = Date64Array::from(vec![i64::from(day) * 86_400_000]);
        let d64 = View::new(Arc::new(d64), Role::Time).unwrap();
        assert_eq!(d64.instant(0, &t8), Ok(text));
        let s = View::new(
            Arc::new(StringArray::from(vec![
                Some("2025-01-02T08:30:00+08:00"),
                None,
            ])),
            Role::Time,
        )
        .unwrap();
        assert_eq!(s.instant(0, &t8), Ok(secs));
        assert_eq!(s.instant(1, &t8), Err("missing value (null)"));
    }

    #[test]
    fn ids_from_dictionaries_large_strings_views_and_integers() {
        let mut dict = StringDictionaryBuilder::<arrow_array::types::Int16Type>::new();
        dict.append_value("C1");
        dict.append_null();
        dict.append_value("C1");
        let cols: Vec<ArrayRef> = vec![
            Arc::new(dict.finish()),
            Arc::new(LargeStringArray::from(vec![Some("C1"), None, Some("C1")])),
            Arc::new(StringViewArray::from(vec![Some("C1"), None, Some("C1")])),
        ];
        for c in cols {
            let v = View::new(c, Role::Text).unwrap();
            assert_eq!(v.text(0), Some(&b"C1"[..]));
            assert_eq!(v.text(1), Some(&b""[..]));
            assert!(v.is_blank(1));
            assert_eq!(v.text(2), Some(&b"C1"[..]));
        }
        let ints = View::new(Arc::new(UInt64Array::from(vec![u64::MAX])), Role::Text).unwrap();
        assert_eq!(ints.text(0), Some(u64::MAX.to_string().as_bytes()));
    }

    #[test]
    fn wrong_types_name_the_column_the_type_and_what_is_accepted() {
        let schema = Schema::new(vec![
            arrow_schema::Field::new("customer_id", DataType::Utf8, false),
            arrow_schema::Field::new("ordered_at", DataType::Date32, false),
            arrow_schema::Field::new("amount", DataType::Boolean, false),
        ]);
        let e = resolve(
            Path::new("o.parquet"),
            &schema,
            InputKind::Orders,
            &ReadOptions::default(),
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("`amount`") && text.contains("Boolean") && text.contains("decimal"),
            "{text}"
        );
    }
}
