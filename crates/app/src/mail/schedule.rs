//! When a subscription's units arrive: at a chosen hour of the learner's day, every one, two or seven
//! days, in their time zone, across daylight-saving changes. Times are Unix milliseconds; the zone
//! database is built in (jiff's bundled copy), so the answer does not depend on the host.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// How often units arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Every day.
    Daily,
    /// Every other day.
    EveryTwoDays,
    /// Once a week.
    Weekly,
}

impl Pace {
    /// Every pace, in the order a form lists them.
    pub const ALL: [Self; 3] = [Self::Daily, Self::EveryTwoDays, Self::Weekly];

    /// Days between two units.
    pub fn days(self) -> i64 {
        match self {
            Self::Daily => 1,
            Self::EveryTwoDays => 2,
            Self::Weekly => 7,
        }
    }

    /// The pace of `days` between units, as stored.
    pub fn from_days(days: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|pace| pace.days() == days)
    }

    /// As a form sends it: `daily`, `two-days`, `weekly`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Daily => "daily",
            Self::EveryTwoDays => "two-days",
            Self::Weekly => "weekly",
        }
    }

    /// As a form sends it.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|pace| pace.as_str() == text)
    }

    /// In words: "every day".
    pub fn words(self) -> &'static str {
        match self {
            Self::Daily => "every day",
            Self::EveryTwoDays => "every two days",
            Self::Weekly => "every week",
        }
    }
}

/// A time zone by its IANA name, checked: the error says what to give instead.
pub fn zone(name: &str) -> Result<TimeZone, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("give a time zone, such as Europe/Paris or America/New_York".into());
    }
    TimeZone::get(name).map_err(|_| {
        format!("“{name}” is not a time zone Lyceum knows; give one such as Europe/Paris or America/New_York")
    })
}

/// Every time zone name Lyceum knows, sorted: what a form offers.
pub fn zone_names() -> Vec<String> {
    let mut names: Vec<String> = jiff::tz::db()
        .available()
        .map(|name| name.as_str().to_owned())
        .collect();
    names.sort();
    names
}

/// A time (Unix ms) as a person in `zone_name` reads it: "Tuesday 8 December at 08:00".
pub fn when(ms: i64, zone_name: &str) -> String {
    let zone = zone(zone_name).unwrap_or(TimeZone::UTC);
    Timestamp::from_millisecond(ms)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned(zone)
        .strftime("%A %-d %B at %H:%M")
        .to_string()
}

/// `hour:00` on `date` in `zone`, as Unix ms. An hour the clocks skip (spring forward) becomes the
/// hour after it; an hour that happens twice (fall back) is its first.
fn at_hour(date: Date, hour: i8, zone: &TimeZone) -> i64 {
    date.at(hour, 0, 0, 0)
        .to_zoned(zone.clone())
        .map_or(i64::MAX, |zoned| zoned.timestamp().as_millisecond())
}

fn local_date(ms: i64, zone: &TimeZone) -> Date {
    Timestamp::from_millisecond(ms)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned(zone.clone())
        .date()
}

fn hour_of(hour: i64) -> i8 {
    i8::try_from(hour.clamp(0, 23)).unwrap_or(0)
}

/// The first `hour:00` in `zone` after `now`: when a new (or resumed) subscription's next unit is due.
pub fn first_after(now: i64, hour: i64, zone: &TimeZone) -> i64 {
    let today = local_date(now, zone);
    let at = at_hour(today, hour_of(hour), zone);
    if at > now {
        return at;
    }
    today
        .tomorrow()
        .map_or(i64::MAX, |tomorrow| at_hour(tomorrow, hour_of(hour), zone))
}

/// When the unit after one due at `due` is due: `pace` days later by the learner's calendar, at
/// their hour, whatever the clocks did in between. If that time has passed as well (the workers were
/// down for days), the next due time is the first one after `now`: the drip resumes, it does not
/// flood.
pub fn next_after(due: i64, now: i64, pace: Pace, hour: i64, zone: &TimeZone) -> i64 {
    let date = local_date(due, zone);
    let next = date
        .checked_add(jiff::Span::new().days(pace.days()))
        .map_or(i64::MAX, |date| at_hour(date, hour_of(hour), zone));
    if next > now {
        next
    } else {
        first_after(now, hour, zone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        text.parse::<Timestamp>()
            .expect("timestamp")
            .as_millisecond()
    }

    fn show(ms: i64, zone: &str) -> String {
        Timestamp::from_millisecond(ms)
            .expect("timestamp")
            .to_zoned(TimeZone::get(zone).expect("zone"))
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string()
    }

    #[test]
    fn the_first_unit_comes_at_the_next_chosen_hour() {
        let paris = zone("Europe/Paris").expect("zone");
        // 06:30 in Paris (UTC+1 in December): 08:00 today.
        let now = ms("2026-12-05T05:30:00Z");
        assert_eq!(
            show(first_after(now, 8, &paris), "Europe/Paris"),
            "2026-12-05 08:00 CET"
        );
        // 09:00 in Paris: 08:00 tomorrow.
        let now = ms("2026-12-05T08:00:00Z");
        assert_eq!(
            show(first_after(now, 8, &paris), "Europe/Paris"),
            "2026-12-06 08:00 CET"
        );
        assert_eq!(
            when(first_after(now, 8, &paris), "Europe/Paris"),
            "Sunday 6 December at 08:00"
        );
    }

    #[test]
    fn a_daily_drip_keeps_the_learners_hour_across_both_dst_changes() {
        let york = zone("America/New_York").expect("zone");
        // Spring forward on 2027-03-14, fall back on 2027-11-07: every mail at 07:00 local.
        for (start, days) in [("2027-03-12T12:00:00Z", 4), ("2027-11-05T12:00:00Z", 4)] {
            let mut due = first_after(ms(start), 7, &york);
            for _ in 0..days {
                assert!(
                    show(due, "America/New_York").contains(" 07:00 "),
                    "{}",
                    show(due, "America/New_York")
                );
                due = next_after(due, due, Pace::Daily, 7, &york);
            }
        }
        // Across the spring change the UTC gap is 23 hours; across the autumn one, 25.
        let before = first_after(ms("2027-03-13T00:00:00Z"), 7, &york);
        assert_eq!(
            next_after(before, before, Pace::Daily, 7, &york) - before,
            23 * 3_600_000
        );
        let before = first_after(ms("2027-11-06T00:00:00Z"), 7, &york);
        assert_eq!(
            next_after(before, before, Pace::Daily, 7, &york) - before,
            25 * 3_600_000
        );
    }

    #[test]
    fn an_hour_the_clocks_skip_becomes_the_hour_after_it() {
        let york = zone("America/New_York").expect("zone");
        // 02:00 does not exist on 2027-03-14 in New York.
        let due = first_after(ms("2027-03-14T05:00:00Z"), 2, &york);
        assert_eq!(show(due, "America/New_York"), "2027-03-14 03:00 EDT");
        let next = next_after(due, due, Pace::Daily, 2, &york);
        assert_eq!(show(next, "America/New_York"), "2027-03-15 02:00 EDT");
    }

    #[test]
    fn paces_step_by_the_calendar_and_late_workers_do_not_flood() {
        let tokyo = zone("Asia/Tokyo").expect("zone");
        let due = first_after(ms("2026-12-01T00:00:00Z"), 18, &tokyo);
        assert_eq!(show(due, "Asia/Tokyo"), "2026-12-01 18:00 JST");
        assert_eq!(
            show(
                next_after(due, due, Pace::EveryTwoDays, 18, &tokyo),
                "Asia/Tokyo"
            ),
            "2026-12-03 18:00 JST"
        );
        assert_eq!(
            show(next_after(due, due, Pace::Weekly, 18, &tokyo), "Asia/Tokyo"),
            "2026-12-08 18:00 JST"
        );
        // The worker ran ten days late: the next unit is the next 18:00, not ten overdue ones.
        let late = due + 10 * 86_400_000 + 3_600_000;
        assert_eq!(
            show(next_after(due, late, Pace::Daily, 18, &tokyo), "Asia/Tokyo"),
            "2026-12-12 18:00 JST"
        );
    }

    #[test]
    fn a_zone_that_does_not_exist_says_what_to_give() {
        let error = zone("Mars/Olympus_Mons").expect_err("refused");
        assert!(error.contains("Europe/Paris"), "{error}");
        assert!(zone("  ").is_err());
        assert!(zone_names().iter().any(|name| name == "America/Sao_Paulo"));
    }
}
