//! How to read an input file: delimiter, header, time format, UTC offset, column mapping and
//! what to do with bad rows. The data contract's column lists live here too.
use crate::data::time::{TimeFormat, TimeParser};
use crate::{Error, Result};
use std::collections::BTreeMap;

/// The four inputs of the data contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputKind {
    /// `orders.csv`: customer_id, ordered_at, amount, order_id?, channel?
    Orders,
    /// `events.csv`: customer_id, occurred_at, event, channel?
    Events,
    /// `comments.csv`: customer_id, created_at, text, rating?
    Comments,
    /// `customers.csv`: customer_id, first_seen_at?, acquisition_channel?
    Customers,
}

/// One column of the data contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnSpec {
    /// The contract name.
    pub name: &'static str,
    /// Whether a file without it is an error.
    pub required: bool,
    /// Whether any feature or KPI reads it: a column that is not read (orders' and events'
    /// `channel` today) is not decoded from columnar inputs. CSV checks every field anyway.
    pub read: bool,
}

const fn col(name: &'static str, required: bool) -> ColumnSpec {
    ColumnSpec {
        name,
        required,
        read: true,
    }
}

const fn unread(name: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        required: false,
        read: false,
    }
}

impl InputKind {
    /// The contract's columns, in the order used for files without a header.
    pub fn columns(self) -> &'static [ColumnSpec] {
        const ORDERS: [ColumnSpec; 5] = [
            col("customer_id", true),
            col("ordered_at", true),
            col("amount", true),
            col("order_id", false),
            unread("channel"),
        ];
        const EVENTS: [ColumnSpec; 4] = [
            col("customer_id", true),
            col("occurred_at", true),
            col("event", true),
            unread("channel"),
        ];
        const COMMENTS: [ColumnSpec; 4] = [
            col("customer_id", true),
            col("created_at", true),
            col("text", true),
            col("rating", false),
        ];
        const CUSTOMERS: [ColumnSpec; 3] = [
            col("customer_id", true),
            col("first_seen_at", false),
            col("acquisition_channel", false),
        ];
        match self {
            InputKind::Orders => &ORDERS,
            InputKind::Events => &EVENTS,
            InputKind::Comments => &COMMENTS,
            InputKind::Customers => &CUSTOMERS,
        }
    }

    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            InputKind::Orders => "orders",
            InputKind::Events => "events",
            InputKind::Comments => "comments",
            InputKind::Customers => "customers",
        }
    }
}

/// How fields are separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    /// One byte, such as `,`, `;`, `\t` or `|`; fields may be quoted with `"`.
    Byte(u8),
    /// Runs of spaces and tabs (no quoting), as in many legacy exports.
    Whitespace,
}

impl Delimiter {
    /// Parses `,`, `;`, `|`, `\t`, `tab` or `whitespace`.
    pub fn parse(text: &str) -> Result<Delimiter> {
        match text {
            "whitespace" | "ws" | "space" => Ok(Delimiter::Whitespace),
            "\\t" | "tab" | "\t" => Ok(Delimiter::Byte(b'\t')),
            t if t.len() == 1 && t.is_ascii() && t != "\"" && t != "\n" && t != "\r" => {
                Ok(Delimiter::Byte(t.as_bytes()[0]))
            }
            t => Err(Error::InvalidParameter {
                name: "delimiter",
                value: t.to_string(),
                reason: "expected one ASCII character, `\\t`, `tab` or `whitespace`".into(),
            }),
        }
    }
}

/// What to do with a row that cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BadRowPolicy {
    /// Stop with an error naming file, line, column and value.
    #[default]
    Fail,
    /// Skip the row, count it and remember where it was.
    Skip,
}

/// Maps contract column names to the names used in a file (`customer_id=user_id`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnMap {
    map: BTreeMap<String, String>,
}

impl ColumnMap {
    /// Parses `contract=source,contract=source`. Contract names must exist in the data contract.
    pub fn parse(text: &str) -> Result<ColumnMap> {
        let mut map = BTreeMap::new();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| Error::InvalidParameter {
                    name: "map",
                    value: pair.to_string(),
                    reason: "expected `contract_name=file_column`, e.g. `customer_id=user_id`"
                        .into(),
                })?;
            let (k, v) = (k.trim(), v.trim());
            let known = [
                InputKind::Orders,
                InputKind::Events,
                InputKind::Comments,
                InputKind::Customers,
            ]
            .iter()
            .flat_map(|k| k.columns())
            .any(|c| c.name == k);
            if !known || v.is_empty() {
                return Err(Error::InvalidParameter {
                    name: "map",
                    value: pair.to_string(),
                    reason: if known {
                        "the file column name is empty".into()
                    } else {
                        format!("`{k}` is not a column of the data contract")
                    },
                });
            }
            map.insert(k.to_string(), v.to_string());
        }
        Ok(ColumnMap { map })
    }

    /// The name to look for in the file for contract column `name`.
    pub fn source_name<'a>(&'a self, name: &'a str) -> &'a str {
        self.map.get(name).map(String::as_str).unwrap_or(name)
    }

    /// Whether the user mapped this contract column explicitly.
    pub fn is_mapped(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }
}

/// Everything needed to read the input files.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Field separator.
    pub delimiter: Delimiter,
    /// Whether the first record is a header (default true). Without a header, columns are
    /// named by 1-based position (`--map amount=3`), unmapped ones taken in contract order.
    pub has_header: bool,
    /// Timestamp parser (format and the UTC offset that defines calendar days).
    pub time: TimeParser,
    /// Bad-row policy.
    pub on_bad_rows: BadRowPolicy,
    /// Column mapping.
    pub columns: ColumnMap,
    /// The longest quoted field accepted, in bytes (default 1 MiB): a longer one is an error
    /// naming the line where its quote opened, usually an unclosed quote.
    pub max_field_bytes: usize,
    /// Set by a caller to stop the read (and the job reading): checked between batches of
    /// chunks or row groups, ending the read with [`crate::Error::Cancelled`].
    pub cancel: crate::cancel::Cancel,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            delimiter: Delimiter::Byte(b','),
            has_header: true,
            time: TimeParser::new(TimeFormat::Rfc3339, 0),
            on_bad_rows: BadRowPolicy::Fail,
            columns: ColumnMap::default(),
            max_field_bytes: crate::data::chunks::DEFAULT_MAX_QUOTED_BYTES,
            cancel: crate::cancel::Cancel::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_map_parses_and_validates() {
        let m = ColumnMap::parse("customer_id=user_id, ordered_at=pay_time,amount=gmv").unwrap();
        assert_eq!(m.source_name("customer_id"), "user_id");
        assert_eq!(m.source_name("amount"), "gmv");
        assert_eq!(m.source_name("order_id"), "order_id");
        assert!(ColumnMap::parse("price=gmv").is_err());
        assert!(ColumnMap::parse("amount").is_err());
        assert!(ColumnMap::parse("amount=").is_err());
    }

    #[test]
    fn delimiters() {
        assert_eq!(Delimiter::parse(";").unwrap(), Delimiter::Byte(b';'));
        assert_eq!(Delimiter::parse("\\t").unwrap(), Delimiter::Byte(b'\t'));
        assert_eq!(
            Delimiter::parse("whitespace").unwrap(),
            Delimiter::Whitespace
        );
        assert!(Delimiter::parse("ab").is_err());
        assert!(Delimiter::parse("\"").is_err());
    }
}
