//! Forms drawn as `attempts::start_part` draws them, from a history read once.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::bank::Blueprint;
use crate::exam::fair::Difficulties;
use crate::exam::form::{Form, FormError, History, Parts, Pool};
use crate::store::sittings::Sitting;
use crate::store::{calibration, forms, Db};

/// Draws forms as `attempts::start_part` does, from the history read once: every item's
/// exposure so far (counting the forms drawn here) and what each person saw in other sittings;
/// Part One fair where the pool is calibrated, and the sitting's one form (drawn and kept when
/// loading) for a blueprint with `forms = "one"`.
pub struct Forms {
    pool: Pool,
    exposure: BTreeMap<String, u32>,
    seen: HashMap<String, BTreeSet<String>>,
    difficulties: Difficulties,
    /// The sitting's one Part One form, by blueprint id.
    one: HashMap<String, Form>,
}

impl Forms {
    /// The history and calibration for drawing `sitting`'s forms; the sitting's one form of each
    /// of its blueprints that asks for one is drawn (or read) and kept now, as the first start
    /// would.
    pub async fn load(
        db: &Db,
        pool: Pool,
        sitting: &Sitting,
        blueprints: &[Blueprint],
    ) -> std::result::Result<Forms, super::BulkError> {
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
        let exposure: BTreeMap<String, u32> = exposure
            .into_iter()
            .map(|(id, n)| (id, u32::try_from(n).unwrap_or(u32::MAX)))
            .collect();
        let difficulties =
            forms::pool_difficulties(&pool, &calibration::latest_difficulties(db).await?);
        let mut one = HashMap::new();
        for bp in blueprints
            .iter()
            .filter(|b| sitting.blueprints.contains(&b.id) && forms::one_form(b))
        {
            let form = forms::sitting_form(db, sitting.id, bp, &pool, &exposure, &difficulties)
                .await?
                .map_err(|e| super::BulkError::Refused(format!("{}: {e}", bp.id)))?;
            one.insert(bp.id.clone(), form);
        }
        Ok(Forms {
            pool,
            exposure,
            seen,
            difficulties,
            one,
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
        let form = match self.one.get(&bp.id) {
            Some(form) if parts.one => form.clone(),
            _ => forms::draw(bp, &self.pool, &history, parts, seed, &self.difficulties)?,
        };
        for id in form.ids() {
            *self.exposure.entry(id).or_insert(0) += 1;
        }
        Ok(form)
    }
}
