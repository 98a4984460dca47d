//! UK postcodes: outward code, one space, inward code, upper case.

use std::fmt;

/// A UK postcode in its normal form, e.g. `NG1 5DT`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Postcode(String);

impl Postcode {
    /// Parses a postcode written with any case and spacing.
    pub fn parse(s: &str) -> Result<Self, String> {
        let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        let bad = || format!("'{}' is not a UK postcode (e.g. NG1 5DT)", s.trim());
        if !(5..=7).contains(&compact.len()) || !compact.is_ascii() {
            return Err(bad());
        }
        let (outward, inward) = compact.split_at(compact.len() - 3);
        if compact == "GIR0AA" || (is_outward(outward) && is_inward(inward)) {
            Ok(Self(format!("{outward} {inward}")))
        } else {
            Err(bad())
        }
    }

    /// The normal form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Outward codes: A9, A99, AA9, AA99, A9A, AA9A.
fn is_outward(s: &str) -> bool {
    let b = s.as_bytes();
    let alpha = |i: usize| b.get(i).is_some_and(u8::is_ascii_uppercase);
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    match b.len() {
        2 => alpha(0) && digit(1),
        3 => alpha(0) && ((digit(1) && digit(2)) || (alpha(1) && digit(2)) || (digit(1) && alpha(2))),
        4 => alpha(0) && alpha(1) && digit(2) && (digit(3) || alpha(3)),
        _ => false,
    }
}

/// Inward codes: a digit then two letters (never C, I, K, M, O or V).
fn is_inward(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 3 && b[0].is_ascii_digit() && b[1..].iter().all(|c| c.is_ascii_uppercase() && !b"CIKMOV".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn postcodes_are_normalised_to_upper_case_with_one_space() {
        for (written, normal) in [
            ("ng1 5dt", "NG1 5DT"),
            ("SW1A1AA", "SW1A 1AA"),
            ("  m1   1ae ", "M1 1AE"),
            ("B33 8TH", "B33 8TH"),
            ("CR2 6XH", "CR2 6XH"),
            ("DN55 1PT", "DN55 1PT"),
            ("W1A 0AX", "W1A 0AX"),
            ("EC1A 1BB", "EC1A 1BB"),
        ] {
            assert_eq!(Postcode::parse(written).map(|p| p.to_string()), Ok(normal.to_string()), "{written}");
        }
    }

    #[test]
    fn non_postcodes_are_refused() {
        for bad in ["", "NG1", "NG1 5D", "1NG 5DT", "NG1 5CT", "NGG1 5DT", "NG1 55T", "N€1 5DT", "NG1 5DTX"] {
            assert!(Postcode::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_is_idempotent(s in "\\PC{0,12}") {
            if let Ok(p) = Postcode::parse(&s) {
                prop_assert_eq!(Postcode::parse(p.as_str()), Ok(p.clone()));
                prop_assert_eq!(p.as_str().matches(' ').count(), 1);
            }
        }

        #[test]
        fn any_spacing_or_case_of_a_valid_postcode_parses_the_same(
            area in "[A-Z]{1,2}", district in "[0-9]{1,2}", sector in "[0-9]", unit in "[ABDEFGHJLNPQRSTUWXYZ]{2}",
            lower in any::<bool>(), spaces in 0usize..3,
        ) {
            let normal = format!("{area}{district} {sector}{unit}");
            let mut written = format!("{area}{district}{}{sector}{unit}", " ".repeat(spaces));
            if lower { written = written.to_lowercase(); }
            prop_assert_eq!(Postcode::parse(&written).map(|p| p.to_string()), Ok(normal));
        }
    }
}
