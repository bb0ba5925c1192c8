//! A sitting's activity counts, kept with its computed results to tell when they are out of
//! date.

use super::super::{Db, Result};

/// What in a sitting changes its results, counted: a count that moved since the results were
/// computed means they are out of date. Counts rather than times, because a part's recorded
/// submission time can be its deadline, earlier than the moment it was submitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Activity {
    pub settled: i64,
    pub submitted: i64,
    pub voided: i64,
    pub registered: i64,
    pub absent: i64,
}

impl Activity {
    pub(super) async fn now(db: &Db, sitting_id: i64) -> Result<Self> {
        let (settled, submitted, voided, registered, absent): (i64, i64, i64, i64, i64) =
            sqlx::query_as(
                "SELECT
                 (SELECT COUNT(*) FROM responses
                     WHERE sitting_id = $1 AND attempt_id IS NOT NULL AND settled_at IS NOT NULL),
                 (SELECT COUNT(*) FROM attempts a JOIN registrations g ON g.id = a.registration_id
                     WHERE g.sitting_id = $1 AND a.submitted_at IS NOT NULL),
                 (SELECT COUNT(*) FROM attempts a JOIN registrations g ON g.id = a.registration_id
                     WHERE g.sitting_id = $1 AND a.voided_at IS NOT NULL),
                 (SELECT COUNT(*) FROM registrations WHERE sitting_id = $1),
                 (SELECT COUNT(*) FROM registrations WHERE sitting_id = $1 AND absent_at IS NOT NULL)",
            )
            .bind(sitting_id)
            .fetch_one(&db.pool)
            .await?;
        Ok(Self {
            settled,
            submitted,
            voided,
            registered,
            absent,
        })
    }

    pub(super) fn encode(&self) -> String {
        format!(
            "{},{},{},{},{}",
            self.settled, self.submitted, self.voided, self.registered, self.absent
        )
    }

    pub(super) fn decode(s: &str) -> Option<Self> {
        let n: Vec<i64> = s
            .split(',')
            .map(|x| x.parse().ok())
            .collect::<Option<_>>()?;
        match n[..] {
            [settled, submitted, voided, registered, absent] => Some(Self {
                settled,
                submitted,
                voided,
                registered,
                absent,
            }),
            _ => None,
        }
    }

    /// What moved from `then` to `self`, in words.
    pub fn changes_since(&self, then: &Self) -> Vec<String> {
        [
            (self.settled - then.settled, "response(s) settled"),
            (self.submitted - then.submitted, "part(s) submitted"),
            (self.voided - then.voided, "part(s) voided"),
            (
                self.registered - then.registered,
                "registration(s) added or removed",
            ),
            (self.absent - then.absent, "candidate(s) marked absent"),
        ]
        .into_iter()
        .filter(|(d, _)| *d != 0)
        .map(|(d, what)| format!("{} {what}", d.abs()))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Activity;

    #[test]
    fn activity_round_trips_and_names_what_moved() {
        let then = Activity {
            settled: 4,
            submitted: 6,
            voided: 0,
            registered: 3,
            absent: 0,
        };
        assert_eq!(Activity::decode(&then.encode()), Some(then));
        assert_eq!(Activity::decode("1,2,3"), None);
        assert_eq!(Activity::decode("1,2,x,4,5"), None);
        let now = Activity {
            settled: 6,
            voided: 1,
            ..then
        };
        assert_eq!(
            now.changes_since(&then),
            ["2 response(s) settled", "1 part(s) voided"]
        );
        assert!(then.changes_since(&then).is_empty());
    }
}
