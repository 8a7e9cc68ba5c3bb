//! Timestamps: milliseconds since the Unix epoch, shown as RFC 3339 UTC with
//! milliseconds (`2026-01-02T03:04:05.678Z`).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A point in time with millisecond precision. A plain integer on the wire (cheap
/// to encode), an RFC 3339 string in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Timestamp {
        Timestamp(Utc::now().timestamp_millis())
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn plus_millis(self, ms: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(ms))
    }

    pub fn to_rfc3339(self) -> String {
        match self.rfc3339_common() {
            Some(buf) => String::from_utf8_lossy(&buf).into_owned(),
            None => match DateTime::<Utc>::from_timestamp_millis(self.0) {
                Some(dt) => dt.to_rfc3339_opts(SecondsFormat::Millis, true),
                None => "1970-01-01T00:00:00.000Z".to_string(),
            },
        }
    }

    /// The RFC 3339 form for years 0..=9999, on the stack. Listing 10,000 work
    /// orders formats 50,000 timestamps: a direct civil-date computation
    /// (Hinnant's days-to-date) with no allocation is several times faster than
    /// going through chrono, which covers the years outside this range.
    fn rfc3339_common(self) -> Option<[u8; 24]> {
        let secs = self.0.div_euclid(1000);
        let milli = self.0.rem_euclid(1000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        if !(0..=9999).contains(&year) {
            return None;
        }
        let mut b = *b"0000-00-00T00:00:00.000Z";
        let mut put = |at: usize, width: usize, mut v: i64| {
            for i in (at..at + width).rev() {
                b[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, 4, year);
        put(5, 2, month);
        put(8, 2, day);
        put(11, 2, sod / 3600);
        put(14, 2, sod % 3600 / 60);
        put(17, 2, sod % 60);
        put(20, 3, milli);
        Some(b)
    }

    /// Serialises as an RFC 3339 string without allocating in the common case.
    fn serialize_rfc3339<S: serde::Serializer>(self, s: S) -> Result<S::Ok, S::Error> {
        match self.rfc3339_common() {
            Some(buf) => s.serialize_str(std::str::from_utf8(&buf).unwrap_or_default()),
            None => s.serialize_str(&self.to_rfc3339()),
        }
    }

    pub fn parse(s: &str) -> Result<Timestamp, String> {
        DateTime::parse_from_rfc3339(s)
            .map(|dt| Timestamp(dt.timestamp_millis()))
            .map_err(|e| format!("invalid timestamp {s:?}: {e}"))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// A timestamp that serialises as its RFC 3339 string.
struct Rfc3339(Timestamp);

impl serde::Serialize for Rfc3339 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_rfc3339(s)
    }
}

/// serde helpers for JSON: `Timestamp` as an RFC 3339 string.
pub mod rfc3339 {
    use super::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        t.serialize_rfc3339(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }

    pub mod option {
        use super::super::Timestamp;
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
            match t {
                // serialize_some keeps the Option tag for non-self-describing formats.
                Some(t) => s.serialize_some(&super::super::Rfc3339(*t)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
            let s = <Option<std::borrow::Cow<'de, str>>>::deserialize(d)?;
            s.map(|s| Timestamp::parse(&s).map_err(serde::de::Error::custom))
                .transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip() {
        let t = Timestamp(1_767_323_045_678);
        assert_eq!(t.to_rfc3339(), "2026-01-02T03:04:05.678Z");
        assert_eq!(Timestamp::parse("2026-01-02T03:04:05.678Z").unwrap(), t);
        assert_eq!(
            Timestamp::parse("2026-01-02T04:04:05.678+01:00").unwrap(),
            t
        );
        assert!(Timestamp::parse("yesterday").is_err());
    }

    #[test]
    fn fast_formatting_matches_chrono() {
        let mut x: i64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            // xorshift over roughly 1900..2200, negative times included
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let ms = x.rem_euclid(9_500_000_000_000) - 2_200_000_000_000;
            let expect = DateTime::<Utc>::from_timestamp_millis(ms)
                .unwrap()
                .to_rfc3339_opts(SecondsFormat::Millis, true);
            assert_eq!(Timestamp(ms).to_rfc3339(), expect, "{ms}");
        }
        for ms in [
            0,
            -1,
            951_782_400_000,
            4_107_542_400_000,
            253_402_300_799_999,
        ] {
            let expect = DateTime::<Utc>::from_timestamp_millis(ms)
                .unwrap()
                .to_rfc3339_opts(SecondsFormat::Millis, true);
            assert_eq!(Timestamp(ms).to_rfc3339(), expect, "{ms}");
        }
    }
}
