//! The condition a pupil search ([`PupilSearch`]) adds to a list: every word
//! within one of the pupil's names (legal or preferred, forename or surname),
//! case ignored, or the UPN exactly. The same SQL on SQLite and PostgreSQL:
//! `lower(name) LIKE '%word%' ESCAPE '\'`, with `%`, `_` and `\` in a word
//! taken as themselves.

use sea_orm::sea_query::{Expr, Func, LikeExpr};
use sea_orm::{ColumnTrait, Condition};

use crate::domain::PupilSearch;
use crate::entity::pupil;

/// The pupils `search` finds.
pub fn search_condition(search: &PupilSearch) -> Condition {
    let mut by_name = Condition::all();
    for word in search.words() {
        let pattern = format!("%{}%", escape_like(word));
        let mut in_a_name = Condition::any();
        for column in [
            pupil::Column::LegalForename,
            pupil::Column::LegalSurname,
            pupil::Column::PreferredForename,
            pupil::Column::PreferredSurname,
        ] {
            in_a_name = in_a_name
                .add(Expr::expr(Func::lower(Expr::col(column))).like(LikeExpr::new(pattern.clone()).escape('\\')));
        }
        by_name = by_name.add(in_a_name);
    }
    match search.upn() {
        Some(upn) => Condition::any().add(by_name).add(pupil::Column::Upn.eq(upn.as_str())),
        None => by_name,
    }
}

/// `word` with LIKE's wildcards and its escape character taken literally.
fn escape_like(word: &str) -> String {
    let mut escaped = String::with_capacity(word.len());
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_in_a_search_are_taken_literally() {
        assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}
