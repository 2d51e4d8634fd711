//! Money amounts as exact fixed-point integers (1/10,000 of the currency unit), so that sums
//! are exact and independent of the order rows are added in.

/// Fixed-point units per currency unit.
pub const AMOUNT_SCALE: i64 = 10_000;

/// Parses a decimal amount (`12.5`, `-3`, `+0.125`, `1e3`) into units of 1/10,000.
/// Digits beyond the fourth decimal are rounded half away from zero. Returns `None` for text
/// that is not a finite number or does not fit.
pub fn parse_amount(text: &[u8]) -> Option<i64> {
    let t = text.trim_ascii();
    if t.is_empty() {
        return None;
    }
    let (neg, body) = match t[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if body.is_empty() {
        return None;
    }
    if body.iter().any(|c| matches!(c, b'e' | b'E')) {
        let v: f64 = std::str::from_utf8(t).ok()?.parse().ok()?;
        let scaled = (v * AMOUNT_SCALE as f64).round();
        if !scaled.is_finite() || scaled.abs() > 9.0e17 {
            return None;
        }
        return Some(scaled as i64);
    }
    let mut int_part: i64 = 0;
    let mut frac: i64 = 0;
    let mut frac_digits = 0;
    let mut round_up = false;
    let mut seen_dot = false;
    let mut any_digit = false;
    for &c in body {
        match c {
            b'0'..=b'9' => {
                any_digit = true;
                let d = i64::from(c - b'0');
                if !seen_dot {
                    int_part = int_part.checked_mul(10)?.checked_add(d)?;
                    if int_part > 900_000_000_000_000 {
                        return None;
                    }
                } else if frac_digits < 4 {
                    frac = frac * 10 + d;
                    frac_digits += 1;
                } else if frac_digits == 4 {
                    round_up = d >= 5;
                    frac_digits += 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => return None,
        }
    }
    if !any_digit {
        return None;
    }
    while frac_digits < 4 {
        frac *= 10;
        frac_digits += 1;
    }
    let mut v = int_part * AMOUNT_SCALE + frac + i64::from(round_up);
    if neg {
        v = -v;
    }
    Some(v)
}

/// Formats fixed-point units as a decimal with trailing zeros removed (`12.5`, `-3`, `0.0001`).
pub fn format_amount(units: i64) -> String {
    let neg = units < 0;
    let a = units.unsigned_abs();
    let int = a / AMOUNT_SCALE as u64;
    let frac = a % AMOUNT_SCALE as u64;
    let mut s = String::with_capacity(16);
    if neg {
        s.push('-');
    }
    s.push_str(&int.to_string());
    if frac != 0 {
        let f = format!("{frac:04}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s
}

/// Converts fixed-point units to a float in currency units.
pub fn amount_to_f64(units: i64) -> f64 {
    units as f64 / AMOUNT_SCALE as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exact_decimals() {
        assert_eq!(parse_amount(b"12.5"), Some(125_000));
        assert_eq!(parse_amount(b" -3 "), Some(-30_000));
        assert_eq!(parse_amount(b"+0.125"), Some(1_250));
        assert_eq!(parse_amount(b".5"), Some(5_000));
        assert_eq!(parse_amount(b"7."), Some(70_000));
        assert_eq!(parse_amount(b"0.00005"), Some(1));
        assert_eq!(parse_amount(b"-0.00005"), Some(-1));
        assert_eq!(parse_amount(b"0.00004"), Some(0));
        assert_eq!(parse_amount(b"1e3"), Some(10_000_000));
        assert_eq!(parse_amount(b"1.5E-2"), Some(150));
    }

    #[test]
    fn rejects_non_numbers() {
        for bad in [
            &b""[..],
            b"-",
            b".",
            b"12,5",
            b"1.2.3",
            b"abc",
            b"NaN",
            b"inf",
            b"1e999",
            b"--1",
        ] {
            assert_eq!(
                parse_amount(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(parse_amount(b"99999999999999999999"), None);
    }

    #[test]
    fn formats_without_trailing_zeros() {
        assert_eq!(format_amount(125_000), "12.5");
        assert_eq!(format_amount(-30_000), "-3");
        assert_eq!(format_amount(1), "0.0001");
        assert_eq!(format_amount(-1_250), "-0.125");
        assert_eq!(format_amount(0), "0");
    }

    #[test]
    fn sums_are_exact_in_any_order() {
        let xs: Vec<i64> = ["0.1", "0.2", "0.3", "-0.6"]
            .iter()
            .map(|s| parse_amount(s.as_bytes()).unwrap())
            .collect();
        assert_eq!(xs.iter().sum::<i64>(), 0);
        assert_eq!(xs.iter().rev().sum::<i64>(), 0);
    }
}
