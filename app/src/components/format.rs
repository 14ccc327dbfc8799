//! How times, durations and sizes read on the console.

/// `2026-11-25T16:00:01Z` -> `2026-11-25 16:00:01 UTC`.
pub fn timestamp(rfc3339: &str) -> String {
    match rfc3339.split_once('T') {
        Some((date, rest)) => {
            let time = rest.trim_end_matches('Z');
            let time = time.split(['.', '+']).next().unwrap_or(time);
            format!("{date} {time} UTC")
        }
        None => rfc3339.to_owned(),
    }
}

pub fn duration(seconds: u64) -> String {
    let (days, hours, minutes) = (seconds / 86_400, seconds / 3_600 % 24, seconds / 60 % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{seconds} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_as_utc_date_and_time() {
        assert_eq!(timestamp("2026-11-25T16:00:01Z"), "2026-11-25 16:00:01 UTC");
        assert_eq!(timestamp("2026-11-25T16:00:01.123Z"), "2026-11-25 16:00:01 UTC");
    }

    #[test]
    fn durations_keep_the_two_largest_units() {
        assert_eq!(duration(42), "42 s");
        assert_eq!(duration(3_720), "1 h 2 min");
        assert_eq!(duration(90_000), "1 d 1 h");
    }

    #[test]
    fn sizes_use_binary_units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
    }
}
