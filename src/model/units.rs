//! Durations (`90s`, `5m`, `1h30m`, `1.5h`, `250ms`) and sizes (`512MiB`, `2GiB`):
//! parsing for flags and config, and short human formatting for tables.

use super::ModelError;
use std::time::Duration;

/// Parses `90s`, `5m`, `1h30m`, `1.5h`, `250ms`, `2d`, and `0`. A bare number
/// is refused: `30` could mean seconds or minutes, and a guess is a bug. The
/// error does not repeat the input (callers name the flag and value).
pub fn parse_duration(input: &str) -> Result<Duration, ModelError> {
    let err = || {
        ModelError::Unit(
            "not a duration: use a number with a unit, e.g. 90s, 5m, 1h30m, 250ms".into(),
        )
    };
    let s = input.trim();
    if s.is_empty() {
        return Err(err());
    }
    if let Ok(n) = s.parse::<f64>() {
        if n == 0.0 {
            return Ok(Duration::ZERO);
        }
        return Err(ModelError::Unit(format!(
            "a duration needs a unit: {s}s, {s}m or {s}h (or ms, d)"
        )));
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(err)?;
        if num_end == 0 {
            return Err(err());
        }
        let value: f64 = rest[..num_end].parse().map_err(|_| err())?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_end] {
            "ms" => 0.001,
            "s" | "sec" | "secs" => 1.0,
            "m" | "min" | "mins" => 60.0,
            "h" | "hr" | "hrs" => 3600.0,
            "d" => 86400.0,
            _ => return Err(err()),
        };
        total += value * factor;
        rest = &rest[unit_end..];
    }
    secs_to_duration(total).ok_or_else(err)
}

fn secs_to_duration(secs: f64) -> Option<Duration> {
    if (0.0..1e12).contains(&secs) {
        Some(Duration::from_secs_f64(secs))
    } else {
        None
    }
}

/// Parses `512MiB`, `2GiB`, `100MB`, `1024` (bytes), `0`. The error does not
/// repeat the input (callers name the flag and value).
pub fn parse_size(input: &str) -> Result<u64, ModelError> {
    let err = || ModelError::Unit("not a size: use a number with a unit, e.g. 512MiB, 2GiB".into());
    let s = input.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    if split == 0 {
        return Err(err());
    }
    let value: f64 = s[..split].parse().map_err(|_| err())?;
    let factor: f64 = match s[split..].trim() {
        "" | "B" => 1.0,
        "K" | "KB" | "k" | "kB" => 1e3,
        "KiB" => 1024.0,
        "M" | "MB" => 1e6,
        "MiB" => 1024.0 * 1024.0,
        "G" | "GB" => 1e9,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "T" | "TB" => 1e12,
        "TiB" => 1024f64.powi(4),
        _ => return Err(err()),
    };
    let bytes = value * factor;
    if (0.0..1.8e19).contains(&bytes) {
        Ok(bytes as u64)
    } else {
        Err(err())
    }
}

/// Short human form: `450ms`, `42s`, `3m`, `1.5h`, `2.1d`.
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 1.0 {
        format!("{}ms", d.as_millis())
    } else if secs < 60.0 {
        format!("{}s", secs as u64)
    } else if secs < 3600.0 {
        format!("{}m", (secs / 60.0) as u64)
    } else if secs < 86400.0 {
        trim_decimal(secs / 3600.0, "h")
    } else {
        trim_decimal(secs / 86400.0, "d")
    }
}

/// Short human form of a byte count: `512B`, `64MiB`, `1.5GiB`.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes}B")
    } else {
        trim_decimal(value, UNITS[unit])
    }
}

fn trim_decimal(v: f64, unit: &str) -> String {
    let s = format!("{:.1}", (v * 10.0).floor() / 10.0);
    format!("{}{unit}", s.trim_end_matches(".0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("1.5h").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        for bad in ["", "abc", "5x", "-3s", "m", "1h30", "30", "1.5"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        let e = parse_duration("30").unwrap_err().to_string();
        assert_eq!(e, "a duration needs a unit: 30s, 30m or 30h (or ms, d)");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        assert_eq!(parse_size("0").unwrap(), 0);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("2XB").is_err());
    }

    #[test]
    fn formatting() {
        assert_eq!(format_duration(Duration::from_secs(42)), "42s");
        assert_eq!(format_duration(Duration::from_secs(200)), "3m");
        assert_eq!(format_duration(Duration::from_secs(5400)), "1.5h");
        assert_eq!(format_duration(Duration::from_secs(7200)), "2h");
        assert_eq!(format_duration(Duration::from_millis(450)), "450ms");
        assert_eq!(format_size(512), "512B");
        assert_eq!(format_size(64 << 20), "64MiB");
        assert_eq!(format_size(3 << 29), "1.5GiB");
    }
}
