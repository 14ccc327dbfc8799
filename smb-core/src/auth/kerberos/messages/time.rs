//! KerberosTime (RFC 4120 section 5.2.3) and Unix seconds.

use crate::proto::DecodeError;

/// KerberosTime (RFC 4120 section 5.2.3): GeneralizedTime "YYYYMMDDHHMMSSZ", UTC, no fraction,
/// to seconds since 1970.
pub(crate) fn decode_kerberos_time(text: &[u8]) -> Result<i64, DecodeError> {
    const WHAT: &str = "KerberosTime";
    let [digits @ .., b'Z'] = text else {
        return Err(DecodeError::invalid(WHAT, "not ending in Z"));
    };
    if digits.len() != 14 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(DecodeError::invalid(WHAT, "not YYYYMMDDHHMMSSZ"));
    }
    let number = |range: std::ops::Range<usize>| {
        digits[range].iter().fold(0_i64, |value, digit| value * 10 + i64::from(digit - b'0'))
    };
    let (year, month, day) = (number(0..4), number(4..6), number(6..8));
    let (hour, minute, second) = (number(8..10), number(10..12), number(12..14));
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(DecodeError::invalid(WHAT, format!("no date {year:04}-{month:02}-{day:02}")));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(DecodeError::invalid(WHAT, format!("no time {hour:02}:{minute:02}:{second:02}")));
    }
    Ok(days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// The first and last second a KerberosTime can write (0000-01-01 and 9999-12-31T23:59:59Z).
pub(crate) const KERBEROS_TIME_RANGE: (i64, i64) = (-62_167_219_200, 253_402_300_799);

/// The KerberosTime of `unix` seconds, clamped to the years 0000 to 9999.
pub(crate) fn encode_kerberos_time(unix: i64) -> [u8; 15] {
    let unix = unix.clamp(KERBEROS_TIME_RANGE.0, KERBEROS_TIME_RANGE.1);
    let (days, seconds) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let text = format!("{year:04}{month:02}{day:02}{:02}{:02}{:02}Z", seconds / 3_600, seconds / 60 % 60, seconds % 60);
    let mut out = [0; 15];
    out.copy_from_slice(text.as_bytes());
    out
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date, counting in 400-year eras that start on
/// 1 March so that the leap day falls at the end of each year.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}
