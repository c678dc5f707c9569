//! The age rule of the policy (§7), shared by the client (which checks before sending) and the
//! platform (which enforces it): under 18 needs a guardian's consent; under 14 the account's
//! data is sensitive personal information.

use time::{Date, Month};

use crate::AgeBand;

/// Why a date of birth is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOfBirthError {
    /// Not a real date written `YYYY-MM-DD`.
    Malformed,
    /// Before 1900.
    TooEarly,
    /// After today.
    InFuture,
}

impl DateOfBirthError {
    /// A sentence for people.
    pub fn message(self) -> &'static str {
        match self {
            DateOfBirthError::Malformed => "The date of birth must be a real date written YYYY-MM-DD.",
            DateOfBirthError::TooEarly => "The date of birth cannot be before 1900.",
            DateOfBirthError::InFuture => "The date of birth cannot be in the future.",
        }
    }
}

/// Parses a `YYYY-MM-DD` date of birth and checks it is between 1900 and `today`.
pub fn parse_date_of_birth(s: &str, today: Date) -> Result<Date, DateOfBirthError> {
    let bad = DateOfBirthError::Malformed;
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad);
    }
    let num = |r: std::ops::Range<usize>| -> Result<u32, DateOfBirthError> {
        let part = &s[r];
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad);
        }
        part.parse().map_err(|_| bad)
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let month = u8::try_from(m).ok().and_then(|m| Month::try_from(m).ok()).ok_or(bad)?;
    let day = u8::try_from(d).map_err(|_| bad)?;
    let year = i32::try_from(y).map_err(|_| bad)?;
    let date = Date::from_calendar_date(year, month, day).map_err(|_| bad)?;
    if year < 1900 {
        return Err(DateOfBirthError::TooEarly);
    }
    if date > today {
        return Err(DateOfBirthError::InFuture);
    }
    Ok(date)
}

/// Whole years from `dob` to `today` (one more on the birthday itself).
pub fn age_on(dob: Date, today: Date) -> i32 {
    let mut age = today.year() - dob.year();
    if (today.month() as u8, today.day()) < (dob.month() as u8, dob.day()) {
        age -= 1;
    }
    age
}

/// The age band: under 14 a child, 14–17 a minor, 18 or older an adult.
pub fn age_band(age: i32) -> AgeBand {
    match age {
        a if a < 14 => AgeBand::Child,
        a if a < 18 => AgeBand::Minor,
        _ => AgeBand::Adult,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn ages_turn_on_the_birthday_and_bands_follow_the_policy() {
        let today = date!(2026 - 11 - 29);
        let dob = parse_date_of_birth("2008-11-29", today).unwrap();
        assert_eq!(age_on(dob, today), 18);
        assert_eq!(age_band(18), AgeBand::Adult);
        let dob = parse_date_of_birth("2008-11-30", today).unwrap();
        assert_eq!(age_on(dob, today), 17);
        assert_eq!(age_band(17), AgeBand::Minor);
        assert_eq!(age_band(14), AgeBand::Minor);
        assert_eq!(age_band(13), AgeBand::Child);
        assert_eq!(parse_date_of_birth("2026-11-30", today), Err(DateOfBirthError::InFuture));
        assert_eq!(parse_date_of_birth("1899-12-31", today), Err(DateOfBirthError::TooEarly));
        for bad in ["2020-02-30", "20-01-01", "2020/01/01", "２０２０-01-01", ""] {
            assert_eq!(parse_date_of_birth(bad, today), Err(DateOfBirthError::Malformed), "{bad}");
        }
    }
}
