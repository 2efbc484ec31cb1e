//! The diagnostic job's limits ("Run a test job"), and its numbers read as a person types
//! them. The console's form checks them inline and its server function again; the job kind
//! (in `workers`) checks the limits on every submission.

/// Most log lines one run may write.
pub const MAX_LINES: u32 = 10_000;
/// Longest run, in seconds.
pub const MAX_SECONDS: f64 = 3_600.0;

/// The number of lines as typed, or a message naming the field.
pub fn parse_lines(text: &str) -> Result<u32, String> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n <= MAX_LINES)
        .ok_or_else(|| format!("lines must be a whole number from 0 to {MAX_LINES}"))
}

/// The duration in seconds as typed, or a message naming the field.
pub fn parse_seconds(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && (0.0..=MAX_SECONDS).contains(s))
        .ok_or_else(|| format!("seconds must be a number from 0 to {MAX_SECONDS}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_whole_numbers_within_the_limit() {
        assert_eq!(parse_lines(" 5 "), Ok(5));
        assert_eq!(parse_lines("0"), Ok(0));
        assert_eq!(parse_lines("10000"), Ok(10_000));
        let message = "lines must be a whole number from 0 to 10000";
        for bad in ["", "-1", "1.5", "10001", "ten", "1e3"] {
            assert_eq!(parse_lines(bad), Err(message.to_owned()), "{bad:?}");
        }
    }

    #[test]
    fn seconds_are_numbers_within_the_limit() {
        assert_eq!(parse_seconds("0.5"), Ok(0.5));
        assert_eq!(parse_seconds("3600"), Ok(3600.0));
        let message = "seconds must be a number from 0 to 3600";
        for bad in ["", "-0.1", "3600.5", "NaN", "inf", "soon"] {
            assert_eq!(parse_seconds(bad), Err(message.to_owned()), "{bad:?}");
        }
    }
}
