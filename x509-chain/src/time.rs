//! Times in messages: [`UnixTime`] as RFC 3339, through `der::DateTime` (what validity times
//! are read with anyway).

use std::time::Duration;

use rustls_pki_types::UnixTime;

/// Formats seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (years past 9999, which X.509
/// cannot express, as seconds).
pub(crate) fn format_rfc3339(time: UnixTime) -> String {
    match der::DateTime::from_unix_duration(Duration::from_secs(time.as_secs())) {
        Ok(t) => t.to_string(),
        Err(_) => format!("{} s after the epoch", time.as_secs()),
    }
}

pub(crate) fn from_secs(secs: u64) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(format_rfc3339(from_secs(0)), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_rfc3339(from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            format_rfc3339(from_secs(253_402_300_799)),
            "9999-12-31T23:59:59Z"
        );
        assert_eq!(
            format_rfc3339(from_secs(253_402_300_800)),
            "253402300800 s after the epoch"
        );
    }
}
