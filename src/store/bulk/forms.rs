//! Forms drawn as `attempts::start_part` draws them, from a history read once.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::bank::Blueprint;
use crate::exam::form::{assemble, Form, FormError, History, Parts, Pool};
use crate::store::{Db, Result};

/// Draws forms as `attempts::start_part` does, from the history read once: every item's
/// exposure so far (counting the forms drawn here) and what each person saw in other sittings.
pub struct Forms {
    pool: Pool,
    exposure: BTreeMap<String, u32>,
    seen: HashMap<String, BTreeSet<String>>,
}

impl Forms {
    pub async fn load(db: &Db, pool: Pool) -> Result<Forms> {
        let exposure: Vec<(String, i64)> =
            sqlx::query_as("SELECT object_id, COUNT(*) FROM form_items GROUP BY object_id")
                .fetch_all(&db.pool)
                .await?;
        let seen_rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT DISTINCT r.email, f.object_id FROM form_items f
             JOIN attempts a ON a.id = f.attempt_id JOIN registrations r ON r.id = a.registration_id",
        )
        .fetch_all(&db.pool)
        .await?;
        let mut seen: HashMap<String, BTreeSet<String>> = HashMap::new();
        for (email, object) in seen_rows {
            seen.entry(email).or_default().insert(object);
        }
        Ok(Forms {
            pool,
            exposure: exposure
                .into_iter()
                .map(|(id, n)| (id, u32::try_from(n).unwrap_or(u32::MAX)))
                .collect(),
            seen,
        })
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The form of `part` for the person with `email`, drawn with `seed`; its items count as
    /// used from now on.
    pub fn draw(
        &mut self,
        bp: &Blueprint,
        email: &str,
        part: u8,
        seed: u64,
    ) -> std::result::Result<Form, FormError> {
        let history = History {
            seen: self.seen.get(email).cloned().unwrap_or_default(),
            exposure: self.exposure.clone(),
        };
        let parts = Parts {
            one: part == 1,
            two: part == 2,
        };
        let form = assemble(bp, &self.pool, &history, parts, seed)?;
        for id in form.ids() {
            *self.exposure.entry(id).or_insert(0) += 1;
        }
        Ok(form)
    }
}
