//! Timestamps: fast RFC 3339 / plain-date parsing, user formats via chrono, calendar days in a
//! fixed UTC offset, and the cutoff / window arithmetic of the data contract.
//!
//! Instants are whole seconds since the Unix epoch (UTC), fractions truncated toward the past.
//! A timestamp without an offset (a plain date, or a user format without `%z`) is a local time
//! in the chosen UTC offset, so a plain date always falls on its own calendar day.
use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// Seconds in a day.
pub const SECONDS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `(year, month, day)` of a day number since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

#[inline]
fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// How timestamps in a file are written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TimeFormat {
    /// RFC 3339 (`2025-03-01T10:22:00+08:00`, `Z`, fractional seconds, a space for `T`), or a
    /// plain date `2025-03-01`, or a naive `2025-03-01 10:22:00`.
    #[default]
    Rfc3339,
    /// A chrono `strftime` pattern such as `%Y%m%d` or `%d/%m/%Y %H:%M`.
    Custom(String),
}

/// Parses timestamps to UTC seconds; naive values are local times at `utc_offset_seconds`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeParser {
    format: TimeFormat,
    utc_offset_seconds: i64,
}

impl TimeParser {
    /// A parser for `format` with naive times read in `utc_offset_seconds` east of UTC.
    pub fn new(format: TimeFormat, utc_offset_seconds: i32) -> Self {
        TimeParser {
            format,
            utc_offset_seconds: i64::from(utc_offset_seconds),
        }
    }

    /// The UTC offset, in seconds east of UTC, that defines calendar days.
    pub fn utc_offset_seconds(&self) -> i64 {
        self.utc_offset_seconds
    }

    /// The calendar day (days since 1970-01-01 in the parser's offset) of an instant.
    #[inline]
    pub fn day_of(&self, instant: i64) -> i64 {
        (instant + self.utc_offset_seconds).div_euclid(SECONDS_PER_DAY)
    }

    /// The instant at local midnight starting calendar day `day`.
    #[inline]
    pub fn day_start(&self, day: i64) -> i64 {
        day * SECONDS_PER_DAY - self.utc_offset_seconds
    }

    /// Parses a timestamp. Returns `None` when the text does not match the format.
    pub fn parse(&self, text: &[u8]) -> Option<i64> {
        let text = trim_ascii(text);
        match &self.format {
            TimeFormat::Rfc3339 => parse_rfc3339(text, self.utc_offset_seconds),
            TimeFormat::Custom(fmt) => {
                let s = std::str::from_utf8(text).ok()?;
                if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
                    return Some(dt.timestamp());
                }
                if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
                    return Some(dt.and_utc().timestamp() - self.utc_offset_seconds);
                }
                let d = NaiveDate::parse_from_str(s, fmt).ok()?;
                let days = d.signed_duration_since(NaiveDate::default()).num_days();
                Some(self.day_start(days))
            }
        }
    }

    /// Formats an instant as RFC 3339 in the parser's offset (`1997-01-01T00:00:00+00:00`).
    pub fn format(&self, instant: i64) -> String {
        let local = instant + self.utc_offset_seconds;
        let day = local.div_euclid(SECONDS_PER_DAY);
        let secs = local.rem_euclid(SECONDS_PER_DAY);
        let (y, m, d) = civil_from_days(day);
        let off = self.utc_offset_seconds;
        let sign = if off < 0 { '-' } else { '+' };
        let off = off.abs();
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
            secs / 3600,
            secs % 3600 / 60,
            secs % 60,
            off / 3600,
            off % 3600 / 60
        )
    }

    /// Formats a calendar day number as `YYYY-MM-DD`.
    pub fn format_day(day: i64) -> String {
        let (y, m, d) = civil_from_days(day);
        format!("{y:04}-{m:02}-{d:02}")
    }
}

fn trim_ascii(mut b: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = b {
        if first.is_ascii_whitespace() {
            b = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = b {
        if last.is_ascii_whitespace() {
            b = rest;
        } else {
            break;
        }
    }
    b
}

/// RFC 3339 / ISO 8601 subset; naive values are local at `offset`.
fn parse_rfc3339(b: &[u8], offset: i64) -> Option<i64> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i64::from(digits(&b[0..4])?);
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if b.len() == 10 {
        return Some(days * SECONDS_PER_DAY - offset);
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 16 || b[13] != b':' {
        return None;
    }
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let mut i = 16;
    let mut second = 0;
    if b.len() >= 19 && b[16] == b':' {
        second = digits(&b[17..19])?;
        i = 19;
        if i < b.len() && (b[i] == b'.' || b[i] == b',') {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == start {
                return None;
            }
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let local = days * SECONDS_PER_DAY + i64::from(hour * 3600 + minute * 60 + second);
    let rest = &b[i..];
    let zone = match rest {
        [] => offset,
        [b'Z' | b'z'] => 0,
        [s @ (b'+' | b'-'), h1, h2, b':', m1, m2] | [s @ (b'+' | b'-'), h1, h2, m1, m2] => {
            let h = digits(&[*h1, *h2])?;
            let m = digits(&[*m1, *m2])?;
            if h > 23 || m > 59 {
                return None;
            }
            let z = i64::from(h * 3600 + m * 60);
            if *s == b'-' {
                -z
            } else {
                z
            }
        }
        [s @ (b'+' | b'-'), h1, h2] => {
            let z = i64::from(digits(&[*h1, *h2])? * 3600);
            if *s == b'-' {
                -z
            } else {
                z
            }
        }
        _ => return None,
    };
    Some(local - zone)
}

/// The UTC offset (seconds) carried by the first timestamp with a time of day in `sample`
/// (the start of an input file): `Some(28800)` for `2025-01-02T10:00:00+08:00`, `Some(0)` for a
/// trailing `Z`, `None` when that first timestamp has no offset or there is no timestamp with
/// a time of day (dates only). `ltv` counts days in this offset when `--utc-offset` is not
/// given.
pub fn sniff_utc_offset(sample: &[u8]) -> Option<i32> {
    let d = |b: Option<&u8>| b.is_some_and(u8::is_ascii_digit);
    let digits = |at: usize, n: usize| (at..at + n).all(|k| d(sample.get(k)));
    let mut i = 0;
    while i + 16 <= sample.len() {
        // YYYY-MM-DD[T ]HH:MM
        let ok = digits(i, 4)
            && sample[i + 4] == b'-'
            && digits(i + 5, 2)
            && sample[i + 7] == b'-'
            && digits(i + 8, 2)
            && matches!(sample[i + 10], b'T' | b' ')
            && digits(i + 11, 2)
            && sample[i + 13] == b':'
            && digits(i + 14, 2);
        if !ok {
            i += 1;
            continue;
        }
        let mut j = i + 16;
        if sample.get(j) == Some(&b':') && digits(j + 1, 2) {
            j += 3;
            if sample.get(j) == Some(&b'.') {
                j += 1;
                while d(sample.get(j)) {
                    j += 1;
                }
            }
        }
        return match sample.get(j) {
            Some(b'Z') | Some(b'z') => Some(0),
            Some(b'+') | Some(b'-') => {
                let len = sample[j + 1..]
                    .iter()
                    .take(5)
                    .take_while(|c| c.is_ascii_digit() || **c == b':')
                    .count();
                std::str::from_utf8(&sample[j..j + 1 + len])
                    .ok()
                    .and_then(parse_utc_offset)
            }
            _ => None,
        };
    }
    None
}

/// Parses a UTC offset such as `+08:00`, `-0530`, `Z` or `+8` into seconds east of UTC.
pub fn parse_utc_offset(text: &str) -> Option<i32> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("utc") {
        return Some(0);
    }
    let (sign, rest) = match t.as_bytes().first()? {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return None,
    };
    let (h, m) = if let Some((h, m)) = rest.split_once(':') {
        (h.parse::<i32>().ok()?, m.parse::<i32>().ok()?)
    } else if rest.len() == 4 {
        (rest[..2].parse().ok()?, rest[2..].parse().ok()?)
    } else {
        (rest.parse().ok()?, 0)
    };
    if !(0..=14).contains(&h) || !(0..60).contains(&m) {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

/// A cutoff instant `T`: feature data are rows at or before `T`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoff {
    /// The first second after `T` (rows with `instant < end_exclusive` are at or before `T`).
    pub end_exclusive: i64,
}

impl Cutoff {
    /// Parses `--cutoff`: a date `D` means the end of day `D` in the parser's offset; a full
    /// timestamp is that instant.
    pub fn parse(text: &str, parser: &TimeParser) -> Option<Cutoff> {
        let t = text.trim();
        let rfc = TimeParser::new(TimeFormat::Rfc3339, parser.utc_offset_seconds as i32);
        let instant = rfc.parse(t.as_bytes())?;
        if t.len() == 10 {
            let day = rfc.day_of(instant);
            Some(Cutoff {
                end_exclusive: rfc.day_start(day + 1),
            })
        } else {
            Some(Cutoff {
                end_exclusive: instant + 1,
            })
        }
    }

    /// The last second at or before the cutoff.
    pub fn instant(&self) -> i64 {
        self.end_exclusive - 1
    }
}

/// Parses a duration `90d`, `39w` or a bare number of days into seconds.
pub fn parse_duration_days(text: &str) -> Option<i64> {
    let t = text.trim();
    let (num, mult) = if let Some(n) = t.strip_suffix('d') {
        (n, 1)
    } else if let Some(n) = t.strip_suffix('w') {
        (n, 7)
    } else {
        (t, 1)
    };
    let n: i64 = num.trim().parse().ok()?;
    if n <= 0 || n > 100_000 {
        return None;
    }
    Some(n * mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> TimeParser {
        TimeParser::new(TimeFormat::Rfc3339, 0)
    }

    #[test]
    fn civil_round_trip_and_known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        // 1997-01-01 to 1997-09-30 is 272 days (31+28+31+30+31+30+31+31+29).
        assert_eq!(
            days_from_civil(1997, 9, 30) - days_from_civil(1997, 1, 1),
            272
        );
        for d in -800_000..800_000 {
            if d % 997 == 0 {
                let (y, m, dd) = civil_from_days(d);
                assert_eq!(days_from_civil(y, m, dd), d);
            }
        }
    }

    #[test]
    fn parses_rfc3339_variants() {
        let p = utc();
        assert_eq!(p.parse(b"1970-01-02"), Some(86_400));
        assert_eq!(p.parse(b"1970-01-01T01:00:00Z"), Some(3600));
        assert_eq!(p.parse(b"1970-01-01T08:00:00+08:00"), Some(0));
        assert_eq!(p.parse(b"1970-01-01 08:00:00+0800"), Some(0));
        assert_eq!(p.parse(b"1970-01-01T00:00:01.999Z"), Some(1));
        assert_eq!(p.parse(b"1969-12-31T23:00:00-01:00"), Some(0));
        assert_eq!(
            p.parse(b"2024-02-29"),
            Some(days_from_civil(2024, 2, 29) * 86_400)
        );
        assert_eq!(p.parse(b"2023-02-29"), None);
        assert_eq!(p.parse(b"2023-13-01"), None);
        assert_eq!(p.parse(b"2023-1-01"), None);
        assert_eq!(p.parse(b"yesterday"), None);
        assert_eq!(p.parse(b"2023-01-01T25:00:00Z"), None);
        assert_eq!(p.parse(b"2023-01-01T10:00:00+08:00junk"), None);
    }

    #[test]
    fn naive_times_are_local_to_the_offset() {
        let p = TimeParser::new(TimeFormat::Rfc3339, 8 * 3600);
        // Midnight in +08:00 is 16:00 UTC the day before.
        assert_eq!(p.parse(b"1970-01-02"), Some(86_400 - 8 * 3600));
        assert_eq!(p.day_of(86_400 - 8 * 3600), 1);
        assert_eq!(p.day_of(86_400 - 8 * 3600 - 1), 0);
        assert_eq!(p.format(0), "1970-01-01T08:00:00+08:00");
    }

    #[test]
    fn custom_formats() {
        let p = TimeParser::new(TimeFormat::Custom("%Y%m%d".into()), 0);
        assert_eq!(
            p.parse(b"19970101"),
            Some(days_from_civil(1997, 1, 1) * 86_400)
        );
        let p = TimeParser::new(TimeFormat::Custom("%d/%m/%Y %H:%M".into()), 3600);
        assert_eq!(p.parse(b"01/01/1970 01:00"), Some(0));
        let p = TimeParser::new(TimeFormat::Custom("%Y-%m-%d %H:%M:%S %z".into()), 0);
        assert_eq!(p.parse(b"1970-01-01 02:00:00 +0200"), Some(0));
        assert_eq!(p.parse(b"garbage"), None);
    }

    #[test]
    fn cutoff_date_is_end_of_day() {
        let p = utc();
        let c = Cutoff::parse("1997-09-30", &p).unwrap();
        assert_eq!(c.end_exclusive, days_from_civil(1997, 10, 1) * 86_400);
        assert_eq!(p.day_of(c.instant()), days_from_civil(1997, 9, 30));
        let c = Cutoff::parse("1997-09-30T12:00:00Z", &p).unwrap();
        assert_eq!(c.instant(), days_from_civil(1997, 9, 30) * 86_400 + 43_200);
        assert!(Cutoff::parse("30/09/1997", &p).is_none());
    }

    #[test]
    fn durations_and_offsets() {
        assert_eq!(parse_duration_days("90d"), Some(90));
        assert_eq!(parse_duration_days("39w"), Some(273));
        assert_eq!(parse_duration_days("7"), Some(7));
        assert_eq!(parse_duration_days("0d"), None);
        assert_eq!(parse_duration_days("3m"), None);
        assert_eq!(parse_utc_offset("+08:00"), Some(28_800));
        assert_eq!(parse_utc_offset("-0530"), Some(-19_800));
        assert_eq!(parse_utc_offset("+8"), Some(28_800));
        assert_eq!(parse_utc_offset("Z"), Some(0));
        assert_eq!(parse_utc_offset("8"), None);
        assert_eq!(parse_utc_offset("+25:00"), None);
    }
}
