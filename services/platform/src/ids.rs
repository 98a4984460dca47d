//! Identifiers every service shares because identity carries them: the DfE LA code
//! (the tenant) and the school URN (a SENCO's scope). Both parse once at the edge
//! and cannot hold a malformed value afterwards.

use std::fmt;

/// A DfE local authority code: three digits, 201–999. The tenant key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LaCode(u16);

impl LaCode {
    /// Parses a three-digit LA code in the range 201–999.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("'{s}' is not a three-digit LA code"));
        }
        let code: u16 = s.parse().map_err(|_| format!("'{s}' is not a three-digit LA code"))?;
        if !(201..=999).contains(&code) {
            return Err(format!("{code} is outside the LA code range 201–999"));
        }
        Ok(Self(code))
    }

    /// The numeric code.
    pub fn get(self) -> u16 {
        self.0
    }
}

impl fmt::Display for LaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03}", self.0)
    }
}

/// A GIAS unique reference number: six digits, 100000–999999.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Urn(u32);

impl Urn {
    /// Parses a six-digit URN.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) || s.starts_with('0') {
            return Err(format!("'{s}' is not a six-digit URN"));
        }
        s.parse().map(Self).map_err(|_| format!("'{s}' is not a six-digit URN"))
    }

    /// Rebuilds a URN read back from storage, where it was stored as a number.
    pub fn from_stored(n: i32) -> Result<Self, String> {
        Self::parse(&n.to_string())
    }

    /// The URN as stored (a number).
    pub fn get(self) -> u32 {
        self.0
    }

    /// The URN in the integer column type the stores use.
    pub fn as_i32(self) -> i32 {
        // 999_999 fits in i32; parse guarantees the range.
        self.0 as i32
    }
}

impl fmt::Display for Urn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn la_codes_are_three_digits_in_range() {
        assert_eq!(LaCode::parse("886").map(|c| c.to_string()), Ok("886".into()));
        assert_eq!(LaCode::parse(" 940 ").map(LaCode::get), Ok(940));
        for bad in ["", "88", "8861", "200", "000", "abc", "8 6", "-86"] {
            assert!(LaCode::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn urns_are_six_digits() {
        assert_eq!(Urn::parse("100001").map(Urn::get), Ok(100001));
        for bad in ["", "10000", "1000011", "012345", "10000a", "１00001"] {
            assert!(Urn::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    proptest! {
        #[test]
        fn any_six_digit_number_round_trips_as_urn(n in 100_000u32..=999_999) {
            let urn = Urn::parse(&n.to_string()).unwrap();
            prop_assert_eq!(urn.get(), n);
            prop_assert_eq!(Urn::from_stored(urn.as_i32()).unwrap(), urn);
        }

        #[test]
        fn urn_parser_never_panics(s in "\\PC{0,10}") {
            let _ = Urn::parse(&s);
        }

        #[test]
        fn la_code_parser_accepts_exactly_the_range(n in 0u16..=1200) {
            let text = format!("{n:03}");
            prop_assert_eq!(LaCode::parse(&text).is_ok(), (201..=999).contains(&n));
        }
    }
}
