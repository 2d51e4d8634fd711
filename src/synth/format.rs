//! Fast hand formatting of the generator's CSV fields: timestamps with a `+08:00` offset from a
//! precomputed table of day strings, amounts in cents and zero-padded ids (integers and CSV
//! quoting: [`crate::features::table`]'s writers).
use crate::features::table::push_u64;
use chrono::NaiveDate;

/// Seconds in a day.
pub(crate) const DAY_SECS: i64 = 86_400;

/// Day strings (`YYYY-MM-DD`) of every day of the window, indexed by day offset from the start.
#[derive(Debug, Clone)]
pub(crate) struct Calendar {
    days: Vec<[u8; 10]>,
}

impl Calendar {
    /// The calendar of `n_days` days from `start`.
    pub(crate) fn new(start: NaiveDate, n_days: usize) -> Self {
        let mut days = Vec::with_capacity(n_days);
        let mut d = start;
        for _ in 0..n_days {
            let s = d.format("%Y-%m-%d").to_string();
            let mut b = [b'0'; 10];
            b.copy_from_slice(&s.as_bytes()[..10]);
            days.push(b);
            d = d.succ_opt().unwrap_or(d);
        }
        Calendar { days }
    }

    /// Appends `secs` (seconds since the window start, local time) as RFC 3339 with `+08:00`.
    /// `secs` must lie inside the window.
    pub(crate) fn push_timestamp(&self, out: &mut Vec<u8>, secs: i64) {
        let day = (secs.div_euclid(DAY_SECS) as usize).min(self.days.len() - 1);
        let rem = secs.rem_euclid(DAY_SECS);
        out.extend_from_slice(&self.days[day]);
        out.push(b'T');
        push2(out, (rem / 3600) as u8);
        out.push(b':');
        push2(out, ((rem / 60) % 60) as u8);
        out.push(b':');
        push2(out, (rem % 60) as u8);
        out.extend_from_slice(b"+08:00");
    }
}

fn push2(out: &mut Vec<u8>, v: u8) {
    out.push(b'0' + v / 10);
    out.push(b'0' + v % 10);
}

/// Appends an unsigned integer zero-padded to at least `width` digits.
pub(crate) fn push_padded(out: &mut Vec<u8>, v: u64, width: usize) {
    let digits = digits(v);
    for _ in digits..width {
        out.push(b'0');
    }
    push_u64(out, v);
}

/// Number of decimal digits of `v`.
pub(crate) fn digits(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}

/// Appends an amount given in cents with two decimals (`-12.05`).
pub(crate) fn push_cents(out: &mut Vec<u8>, cents: i64) {
    if cents < 0 {
        out.push(b'-');
    }
    let a = cents.unsigned_abs();
    push_u64(out, a / 100);
    out.push(b'.');
    push2(out, (a % 100) as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_match_chrono() {
        let start = NaiveDate::from_ymd_opt(2024, 2, 27).unwrap();
        let cal = Calendar::new(start, 10);
        let mut out = Vec::new();
        // 2 days + 13:05:09 → 2024-02-29 (leap day)
        cal.push_timestamp(&mut out, 2 * DAY_SECS + 13 * 3600 + 5 * 60 + 9);
        assert_eq!(out, b"2024-02-29T13:05:09+08:00");
        out.clear();
        cal.push_timestamp(&mut out, 3 * DAY_SECS);
        assert_eq!(out, b"2024-03-01T00:00:00+08:00");
        let parsed =
            chrono::DateTime::parse_from_rfc3339(std::str::from_utf8(&out).unwrap()).unwrap();
        assert_eq!(parsed.offset().local_minus_utc(), 8 * 3600);
    }

    #[test]
    fn numbers_and_fields() {
        let mut out = Vec::new();
        push_cents(&mut out, -1205);
        out.push(b' ');
        push_cents(&mut out, 7);
        out.push(b' ');
        push_padded(&mut out, 42, 7);
        out.push(b' ');
        push_padded(&mut out, 12_345_678, 7);
        out.push(b' ');
        push_u64(&mut out, 0);
        assert_eq!(out, b"-12.05 0.07 0000042 12345678 0");
        assert_eq!(digits(9), 1);
        assert_eq!(digits(10), 2);
        out.clear();
        crate::features::table::push_csv_text(&mut out, "a, \"b\"");
        assert_eq!(out, b"\"a, \"\"b\"\"\"");
        out.clear();
        crate::features::table::push_csv_text(&mut out, "质量很好，下次还买");
        assert_eq!(out, "质量很好，下次还买".as_bytes());
    }
}
