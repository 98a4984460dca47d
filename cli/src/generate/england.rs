//! England's 153 local authorities with education duties and how big the
//! generator makes each: the national figures the dataset is shaped to
//! (DfE, "Special educational needs in England", January 2025; "Schools, pupils
//! and their characteristics", 2025), and an approximate count of state-funded
//! schools per authority that gives the dataset England's spread of small and
//! large councils. The counts are rounded estimates for shape, not statistics;
//! the national total is scaled to [`NATIONAL_SCHOOLS`].
//!
//! Kent (886) is sized like the largest authority: about 600 schools, 20,600
//! pupils with an EHC plan and 34,000 on SEN support at scale 1.

/// State-funded schools in England, the generator's total at scale 1.
pub const NATIONAL_SCHOOLS: f64 = 22_000.0;
/// Pupils in England's schools, January 2025.
pub const NATIONAL_PUPILS: f64 = 9_000_000.0;
/// Share of pupils on SEN support (K), January 2025.
pub const NATIONAL_SUPPORT_RATE: f64 = 0.142;
/// Share of pupils with an EHC plan (E), January 2025.
pub const NATIONAL_PLAN_RATE: f64 = 0.053;

/// The authority sized like the largest: Kent.
pub const LARGEST: u16 = 886;
/// The largest authority's schools, pupils with a plan and pupils on SEN support, at scale 1.
pub const LARGEST_SIZE: (f64, f64, f64) = (600.0, 20_600.0, 34_000.0);

/// (LA code, name, approximate state-funded schools).
pub const AUTHORITIES: [(u16, &str, u32); 153] = [
    (201, "City of London", 1),
    (202, "Camden", 60),
    (203, "Greenwich", 90),
    (204, "Hackney", 80),
    (205, "Hammersmith and Fulham", 55),
    (206, "Islington", 65),
    (207, "Kensington and Chelsea", 40),
    (208, "Lambeth", 85),
    (209, "Lewisham", 90),
    (210, "Southwark", 100),
    (211, "Tower Hamlets", 100),
    (212, "Wandsworth", 90),
    (213, "Westminster", 55),
    (301, "Barking and Dagenham", 60),
    (302, "Barnet", 125),
    (303, "Bexley", 80),
    (304, "Brent", 85),
    (305, "Bromley", 100),
    (306, "Croydon", 120),
    (307, "Ealing", 95),
    (308, "Enfield", 95),
    (309, "Haringey", 80),
    (310, "Harrow", 60),
    (311, "Havering", 85),
    (312, "Hillingdon", 95),
    (313, "Hounslow", 75),
    (314, "Kingston upon Thames", 50),
    (315, "Merton", 60),
    (316, "Newham", 95),
    (317, "Redbridge", 75),
    (318, "Richmond upon Thames", 60),
    (319, "Sutton", 60),
    (320, "Waltham Forest", 75),
    (330, "Birmingham", 450),
    (331, "Coventry", 110),
    (332, "Dudley", 110),
    (333, "Sandwell", 120),
    (334, "Solihull", 80),
    (335, "Walsall", 115),
    (336, "Wolverhampton", 100),
    (340, "Knowsley", 60),
    (341, "Liverpool", 170),
    (342, "St. Helens", 70),
    (343, "Sefton", 100),
    (344, "Wirral", 125),
    (350, "Bolton", 130),
    (351, "Bury", 80),
    (352, "Manchester", 200),
    (353, "Oldham", 110),
    (354, "Rochdale", 90),
    (355, "Salford", 95),
    (356, "Stockport", 110),
    (357, "Tameside", 100),
    (358, "Trafford", 95),
    (359, "Wigan", 125),
    (370, "Barnsley", 95),
    (371, "Doncaster", 130),
    (372, "Rotherham", 120),
    (373, "Sheffield", 175),
    (380, "Bradford", 210),
    (381, "Calderdale", 105),
    (382, "Kirklees", 185),
    (383, "Leeds", 280),
    (384, "Wakefield", 150),
    (390, "Gateshead", 90),
    (391, "Newcastle upon Tyne", 100),
    (392, "North Tyneside", 80),
    (393, "South Tyneside", 65),
    (394, "Sunderland", 110),
    (420, "Isles of Scilly", 1),
    (800, "Bath and North East Somerset", 80),
    (801, "Bristol, City of", 150),
    (802, "North Somerset", 80),
    (803, "South Gloucestershire", 115),
    (805, "Hartlepool", 40),
    (806, "Middlesbrough", 50),
    (807, "Redcar and Cleveland", 60),
    (808, "Stockton-on-Tees", 80),
    (810, "Kingston upon Hull, City of", 95),
    (811, "East Riding of Yorkshire", 160),
    (812, "North East Lincolnshire", 65),
    (813, "North Lincolnshire", 75),
    (815, "North Yorkshire", 370),
    (816, "York", 65),
    (821, "Luton", 80),
    (822, "Bedford", 80),
    (823, "Central Bedfordshire", 130),
    (825, "Buckinghamshire", 240),
    (826, "Milton Keynes", 110),
    (830, "Derbyshire", 420),
    (831, "Derby", 100),
    (838, "Dorset", 160),
    (839, "Bournemouth, Christchurch and Poole", 100),
    (840, "County Durham", 270),
    (841, "Darlington", 40),
    (845, "East Sussex", 190),
    (846, "Brighton and Hove", 80),
    (850, "Hampshire", 530),
    (851, "Portsmouth", 65),
    (852, "Southampton", 80),
    (855, "Leicestershire", 280),
    (856, "Leicester", 115),
    (857, "Rutland", 20),
    (860, "Staffordshire", 400),
    (861, "Stoke-on-Trent", 90),
    (865, "Wiltshire", 240),
    (866, "Swindon", 80),
    (867, "Bracknell Forest", 40),
    (868, "Windsor and Maidenhead", 65),
    (869, "West Berkshire", 80),
    (870, "Reading", 50),
    (871, "Slough", 50),
    (872, "Wokingham", 65),
    (873, "Cambridgeshire", 260),
    (874, "Peterborough", 80),
    (876, "Halton", 65),
    (877, "Warrington", 85),
    (878, "Devon", 370),
    (879, "Plymouth", 95),
    (880, "Torbay", 40),
    (881, "Essex", 560),
    (882, "Southend-on-Sea", 55),
    (883, "Thurrock", 60),
    (884, "Herefordshire", 95),
    (885, "Worcestershire", 240),
    (886, "Kent", 600),
    (887, "Medway", 100),
    (888, "Lancashire", 580),
    (889, "Blackburn with Darwen", 75),
    (890, "Blackpool", 45),
    (891, "Nottinghamshire", 350),
    (892, "Nottingham", 100),
    (893, "Shropshire", 160),
    (894, "Telford and Wrekin", 80),
    (895, "Cheshire East", 160),
    (896, "Cheshire West and Chester", 150),
    (908, "Cornwall", 280),
    (916, "Gloucestershire", 290),
    (919, "Hertfordshire", 520),
    (921, "Isle of Wight", 50),
    (925, "Lincolnshire", 380),
    (926, "Norfolk", 430),
    (929, "Northumberland", 170),
    (931, "Oxfordshire", 300),
    (933, "Somerset", 270),
    (935, "Suffolk", 330),
    (936, "Surrey", 400),
    (937, "Warwickshire", 250),
    (938, "West Sussex", 290),
    (940, "North Northamptonshire", 150),
    (941, "West Northamptonshire", 190),
    (942, "Cumberland", 160),
    (943, "Westmorland and Furness", 150),
];

/// How big one authority is made.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sizing {
    /// LA code.
    pub code: u16,
    /// Name.
    pub name: &'static str,
    /// Schools (open and a few closed).
    pub schools: u32,
    /// Pupils with an EHC plan, as a share of the roll (`None`: as many as given absolutely).
    pub plan_rate: f64,
    /// Pupils on SEN support, as a share of the roll.
    pub support_rate: f64,
    /// For the largest authority: exact targets of plans and support, scaled.
    pub targets: Option<(u32, u32)>,
}

/// The authorities to generate at `scale`, the largest first, then by LA code;
/// `limit` keeps only the first so many.
pub fn authorities(scale: f64, limit: Option<usize>) -> Vec<Sizing> {
    let (largest_schools, largest_plans, largest_support) = LARGEST_SIZE;
    let others: f64 = AUTHORITIES.iter().filter(|a| a.0 != LARGEST).map(|a| f64::from(a.2)).sum();
    let per_weight = (NATIONAL_SCHOOLS - largest_schools) / others;
    // The rest of England's plans and support, shared over the other authorities' pupils.
    let largest_share = largest_schools / NATIONAL_SCHOOLS;
    let other_pupils = NATIONAL_PUPILS * (1.0 - largest_share);
    let plan_rate = (NATIONAL_PUPILS * NATIONAL_PLAN_RATE - largest_plans) / other_pupils;
    let support_rate = (NATIONAL_PUPILS * NATIONAL_SUPPORT_RATE - largest_support) / other_pupils;
    let count = |n: f64| (n * scale).round().max(1.0) as u32;
    let mut all: Vec<Sizing> = AUTHORITIES
        .iter()
        .map(|&(code, name, weight)| {
            if code == LARGEST {
                let targets = ((largest_plans * scale).round() as u32, (largest_support * scale).round() as u32);
                Sizing { code, name, schools: count(largest_schools), plan_rate, support_rate, targets: Some(targets) }
            } else {
                Sizing {
                    code,
                    name,
                    schools: count(f64::from(weight) * per_weight),
                    plan_rate,
                    support_rate,
                    targets: None,
                }
            }
        })
        .collect();
    all.sort_by_key(|a| (a.code != LARGEST, a.code));
    all.truncate(limit.unwrap_or(usize::MAX).max(1));
    all
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn england_has_153_authorities_with_distinct_valid_codes() {
        let codes: HashSet<u16> = AUTHORITIES.iter().map(|a| a.0).collect();
        assert_eq!(codes.len(), 153);
        for (code, ..) in AUTHORITIES {
            assert!(sen_platform::ids::LaCode::parse(&code.to_string()).is_ok(), "{code}");
        }
    }

    #[test]
    fn at_scale_one_the_schools_add_up_to_england_and_kent_comes_first() {
        let all = authorities(1.0, None);
        let schools: u32 = all.iter().map(|a| a.schools).sum();
        assert!((21_900..=22_100).contains(&schools), "{schools}");
        assert_eq!((all[0].code, all[0].schools, all[0].targets), (886, 600, Some((20_600, 34_000))));
        let small = authorities(0.01, Some(3));
        assert_eq!(small.iter().map(|a| a.code).collect::<Vec<_>>(), [886, 201, 202]);
        assert!(small.iter().all(|a| a.schools >= 1));
    }
}
