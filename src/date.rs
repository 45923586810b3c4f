//! Civil (calendar) dates in UTC, for the version matrix's `upgrade_by` deadlines and the
//! once-a-day warning stamp.
//!
//! Two small conversions between a date and its day number (days since 1970-01-01), after
//! Howard Hinnant's `days_from_civil`/`civil_from_days`, exact for the proleptic Gregorian
//! calendar. A date library would bring time zones and formatting the shim never needs.
//! "Today" always comes from the system clock: there is deliberately no environment switch
//! that moves it, or a deadline could be pushed back by anyone who can set a variable.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// Parses exactly `YYYY-MM-DD` (four-digit year, two-digit month and day) naming a day that
    /// exists; `None` otherwise.
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        // ASCII first, so the byte ranges below always fall on character boundaries.
        if !s.is_ascii() || b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = &s[r];
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let year = i32::try_from(num(0..4)?).ok()?;
        let month = u8::try_from(num(5..7)?).ok()?;
        let day = u8::try_from(num(8..10)?).ok()?;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// The date `days` days after 1970-01-01 (negative: before).
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097); // [0, 146096]
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
        let mp = (5 * doy + 2) / 153; // [0, 11], March-based
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            // Any i64 day count from the clock fits: i32 years reach far past the heat death
            // of any deadline; saturate rather than wrap for absurd inputs.
            year: i32::try_from(year).unwrap_or(if year < 0 { i32::MIN } else { i32::MAX }),
            month: month as u8,
            day: day as u8,
        }
    }

    /// Days since 1970-01-01 (negative before it).
    pub fn days(self) -> i64 {
        let m = i64::from(self.month);
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// Today in UTC, from the system clock. A binary built with the `test-hooks` feature lets
    /// the test suite move the day (`GOWARDEN_TEST_TODAY=YYYY-MM-DD`), so a policy's dates can
    /// be judged on days to come; release builds have no such switch, since it would move
    /// every `upgrade_by` deadline.
    pub fn today_utc() -> Date {
        #[cfg(feature = "test-hooks")]
        if let Some(d) = crate::environ::var(crate::envvars::TEST_TODAY).and_then(Date::parse) {
            return d;
        }
        Date::from_days(today_days())
    }
}

/// Unix seconds as their UTC date and the seconds into that day.
pub fn split_unix(secs: u64) -> (Date, u64) {
    const DAY: u64 = 86_400;
    // u64 seconds / 86400 always fits i64.
    (Date::from_days((secs / DAY) as i64), secs % DAY)
}

/// Today's day number in UTC (days since 1970-01-01), from the system clock.
pub fn today_days() -> i64 {
    const DAY: u64 = 86_400;
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs() / DAY).unwrap_or(i64::MAX),
        // A clock set before 1970: count backwards rather than fail.
        Err(e) => -i64::try_from(e.duration().as_secs().div_ceil(DAY)).unwrap_or(i64::MAX),
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_day_numbers() {
        let cases = [
            ("1970-01-01", 0),
            ("1969-12-31", -1),
            ("2000-02-29", 11_016),
            ("2000-03-01", 11_017),
            ("2024-12-31", 20_088),
            ("2025-01-01", 20_089),
            ("2100-03-01", 47_541),
        ];
        for (s, n) in cases {
            let d = Date::parse(s).unwrap_or_else(|| panic!("{s} should parse"));
            assert_eq!(d.days(), n, "{s}");
            assert_eq!(Date::from_days(n), d, "{n}");
            assert_eq!(d.to_string(), s);
        }
    }

    #[test]
    fn round_trips_across_four_centuries() {
        let mut prev = Date::from_days(-200_000);
        for n in -199_999..200_000 {
            let d = Date::from_days(n);
            assert_eq!(d.days(), n);
            assert!(d > prev, "{d} after {prev}");
            prev = d;
        }
    }

    #[test]
    fn days_agree_with_a_day_by_day_count() {
        // Every day from 1970 to 2400 against a naive calendar, and Unix seconds with them.
        let (mut y, mut m, mut d) = (1970, 1, 1);
        for days in 0..157_000i64 {
            let want = Date {
                year: y,
                month: m,
                day: d,
            };
            assert_eq!(Date::from_days(days), want, "day {days}");
            let secs = days as u64 * 86_400 + 86_399;
            assert_eq!(split_unix(secs), (want, 86_399));
            d += 1;
            if d > days_in_month(y, m) {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }

    #[test]
    fn rejects_malformed_and_impossible_dates() {
        for bad in [
            "2023-02-29",
            "2100-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "2024-01-00",
            "2024-1-01",
            "24-01-01",
            "2024/01/01",
            "2024-01-01T00:00:00Z",
            "+202-01-01",
            "2024-é-01",
            "20é4-01-1",
            "",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad:?}");
        }
        assert!(Date::parse("2024-02-29").is_some());
        assert!(Date::parse("2000-02-29").is_some());
    }

    #[test]
    fn today_is_after_this_code_was_written() {
        assert!(Date::today_utc() >= Date::parse("2025-01-01").unwrap());
    }
}
