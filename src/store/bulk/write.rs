//! Writing the candidates: registered, admitted, both parts taken and submitted, Part Two coded.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::bank::Blueprint;
use crate::exam::chain::{self, Appended, Chain, Save};
use crate::exam::clock::Clock;
use crate::exam::form::Form;
use crate::exam::registration::{CsvRow, NewRegistration};
use crate::store::attempts::chain_key;
use crate::store::batches::{self, BatchError, Origin};
use crate::store::sittings::Sitting;
use crate::store::{audit, now_ms, Backend, Db, Result, StoreError, WriteTx};

use super::{insert, statement, BulkError, MAX_BINDS, V};

/// Candidates whose parts are prepared in memory at a time (the transaction is still one).
const CANDIDATES_PER_ROUND: usize = 500;

/// A simulated candidate: their registration, their optional answers (given with consent, or
/// None), and the parts they took, in order.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub registration: NewRegistration,
    pub demographics: Option<BTreeMap<String, String>>,
    pub parts: Vec<TakenPart>,
}

/// One part as taken: its form (from `Forms::draw`), when it started, every save in the order
/// the server received them, and when the candidate submitted it.
#[derive(Debug, Clone)]
pub struct TakenPart {
    pub part: u8,
    pub form: Form,
    pub started_at: i64,
    pub saves: Vec<Save>,
    pub submitted_at: i64,
}

/// What `write_sitting` wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// The registrations' ids, in the candidates' order.
    pub registrations: Vec<i64>,
    pub attempts: usize,
    pub events: usize,
    pub responses: usize,
}

/// The blueprint a batch gives a candidate of `reg`'s level in this sitting.
pub fn blueprint_for<'a>(
    sitting: &Sitting,
    blueprints: &'a [Blueprint],
    reg: &NewRegistration,
) -> Option<&'a Blueprint> {
    blueprints
        .iter()
        .find(|b| sitting.blueprints.contains(&b.id) && b.level == reg.level)
}

/// Refuses what `start_part`, the save queue and `submit` would refuse, before anything is
/// written.
fn check(sitting: &Sitting, blueprints: &[Blueprint], c: &Candidate) -> Result<(), BulkError> {
    let who = &c.registration.email;
    let refuse = |why: String| Err(BulkError::Refused(format!("{who}: {why}")));
    let Some(bp) = blueprint_for(sitting, blueprints, &c.registration) else {
        return refuse(format!("no blueprint for level {}", c.registration.level));
    };
    let mut free_from = i64::MIN;
    let mut taken = BTreeSet::new();
    for p in &c.parts {
        let sits = match p.part {
            1 => c.registration.parts.one,
            2 => c.registration.parts.two,
            _ => false,
        };
        if !sits || !taken.insert(p.part) {
            return refuse(format!("Part {} is not registered, or taken twice", p.part));
        }
        if p.form.blueprint != bp.id {
            return refuse(format!("Part {} has a form of another blueprint", p.part));
        }
        if !sitting.is_open(p.started_at) || p.started_at < free_from {
            return refuse(format!(
                "Part {} starts while the sitting is closed or another part runs",
                p.part
            ));
        }
        let clock = clock_of(bp, &c.registration, p);
        if let Some(s) = p
            .saves
            .iter()
            .find(|s| s.seq == 0 || s.at_ms < p.started_at || !clock.accepts_save(s.at_ms))
        {
            return refuse(format!(
                "Part {}: the save of {} at {} would be refused",
                p.part, s.item_id, s.at_ms
            ));
        }
        let last = p
            .saves
            .iter()
            .map(|s| s.at_ms)
            .max()
            .unwrap_or(p.started_at);
        if p.submitted_at < last {
            return refuse(format!("Part {} is submitted before its last save", p.part));
        }
        free_from = p.submitted_at;
    }
    Ok(())
}

fn clock_of(bp: &Blueprint, reg: &NewRegistration, p: &TakenPart) -> Clock {
    let minutes = if p.part == 1 {
        bp.part_one.minutes
    } else {
        bp.part_two.minutes
    };
    Clock::start(p.started_at, minutes, reg.multiplier)
}

/// Writes the candidates' registrations, admissions, optional answers, parts and coded
/// responses. Registration is `batches::register_batch` (its own transaction, as a CSV upload's);
/// the rest is one transaction.
pub async fn write_sitting(
    db: &Db,
    sitting: &Sitting,
    blueprints: &[Blueprint],
    candidates: &[Candidate],
    by: &str,
) -> Result<Written, BulkError> {
    for c in candidates {
        check(sitting, blueprints, c)?;
    }
    let mut registrations = Vec::with_capacity(candidates.len());
    let mut batch_ids = Vec::new();
    for chunk in candidates.chunks(crate::exam::batch::MAX_ROWS_PER_UPLOAD) {
        let rows: Vec<CsvRow> = chunk
            .iter()
            .zip(2..)
            .map(|(c, line)| CsvRow {
                line,
                registration: c.registration.clone(),
            })
            .collect();
        match batches::register_batch(db, sitting, &rows, blueprints, by, false, Origin::Csv).await
        {
            Ok(batch) => {
                batch_ids.push(batch.batch_id);
                registrations.extend(batch.registered.into_iter().map(|(id, _)| id));
            }
            Err(BatchError::Rows(errors)) => {
                let why: Vec<String> = errors
                    .iter()
                    .map(|e| format!("line {}: {}", e.line, e.message))
                    .collect();
                return Err(BulkError::Refused(why.join("; ")));
            }
            Err(BatchError::Store(e)) => return Err(e.into()),
        }
    }
    let mut written = Written {
        registrations,
        ..Written::default()
    };
    let now = now_ms();
    let mut tx = db.write().await?;
    let backend = db.backend;
    let admitted = Admitted {
        sitting_id: sitting.id,
        batches: &batch_ids,
        registrations: &written.registrations,
        at: now,
        by,
    };
    admit(&mut tx, backend, &admitted, candidates).await?;
    for (cs, ids) in candidates
        .chunks(CANDIDATES_PER_ROUND)
        .zip(written.registrations.chunks(CANDIDATES_PER_ROUND))
    {
        let (attempts, events, responses) =
            write_parts(&mut tx, backend, sitting, blueprints, cs, ids).await?;
        written.attempts += attempts;
        written.events += events;
        written.responses += responses;
    }
    // A blank response is settled at 0 with its submission (as `code_responses` settles it).
    sqlx::query(
        "UPDATE responses SET final_score = 0.0
         WHERE sitting_id = $1 AND attempt_id IS NOT NULL AND settled_at IS NOT NULL AND final_score IS NULL",
    )
    .bind(sitting.id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    db.refresh_statistics().await?;
    Ok(written)
}

/// Who is admitted: the batches just registered, by the registering staff member.
struct Admitted<'a> {
    sitting_id: i64,
    batches: &'a [i64],
    /// In the candidates' order.
    registrations: &'a [i64],
    at: i64,
    by: &'a str,
}

/// The proctor admits everyone (with the audit record and the sitting's event each admission
/// has) and the consenting candidates' optional answers are kept.
async fn admit(
    tx: &mut WriteTx,
    backend: Backend,
    admitted: &Admitted<'_>,
    candidates: &[Candidate],
) -> Result<()> {
    let Admitted {
        sitting_id,
        batches,
        registrations: ids,
        at: now,
        by,
    } = *admitted;
    for batch in batches {
        sqlx::query(
            "UPDATE registrations SET admitted_at = $1, admitted_by = $2
             WHERE batch_id = $3 AND admitted_at IS NULL",
        )
        .bind(now)
        .bind(by)
        .bind(*batch)
        .execute(&mut **tx)
        .await?;
    }
    let mut audit_rows = Vec::new();
    let mut events = Vec::new();
    let mut answers = Vec::new();
    for (c, id) in candidates.iter().zip(ids) {
        audit_rows.extend([
            V::Int(now),
            by.into(),
            audit::Action::CandidateAdmit.as_str().into(),
            format!("registration {id} ({})", c.registration.email).into(),
        ]);
        events.extend([
            V::Int(sitting_id),
            V::Int(*id),
            V::Int(now),
            "admitted".into(),
            "identity checked".into(),
            by.into(),
        ]);
        if let Some(a) = &c.demographics {
            answers.extend([
                V::Int(*id),
                V::Int(now),
                serde_json::to_string(a).expect("a map serialises").into(),
            ]);
        }
    }
    insert(
        tx,
        backend,
        "INSERT INTO audit_log (at, actor, action, detail)",
        4,
        &audit_rows,
    )
    .await?;
    insert(
        tx,
        backend,
        "INSERT INTO sitting_events (sitting_id, registration_id, at, kind, detail, actor)",
        6,
        &events,
    )
    .await?;
    insert(
        tx,
        backend,
        "INSERT INTO demographics (registration_id, consent_at, answers)",
        3,
        &answers,
    )
    .await
}

/// One part's chain, linked as the save queue links it.
struct Linked {
    events: Vec<chain::Event>,
    head: String,
    len: i64,
    answers: BTreeMap<String, String>,
}

fn link(registration_id: i64, p: &TakenPart) -> Linked {
    let mut c = Chain::new(&chain_key(registration_id, p.part));
    let mut events = Vec::with_capacity(p.saves.len());
    let mut last_at = i64::MIN;
    for s in &p.saves {
        // A chain never goes back in time (see `attempts::save`).
        let at_ms = s.at_ms.max(last_at);
        let save = Save { at_ms, ..s.clone() };
        // A sequence number seen before is a retry: nothing is stored.
        if let Appended::New { event, .. } = c.append(save) {
            last_at = at_ms;
            events.push(event);
        }
    }
    Linked {
        events,
        head: c.head.clone(),
        len: i64::try_from(c.len).unwrap_or(i64::MAX),
        answers: c.answers(),
    }
}

/// The attempts of some candidates, their forms' items, their response logs and their coded
/// responses. Returns how many of each were written.
async fn write_parts(
    tx: &mut WriteTx,
    backend: Backend,
    sitting: &Sitting,
    blueprints: &[Blueprint],
    candidates: &[Candidate],
    ids: &[i64],
) -> Result<(usize, usize, usize)> {
    let mut parts = Vec::new();
    let mut rows = Vec::new();
    for (c, id) in candidates.iter().zip(ids) {
        let bp = blueprint_for(sitting, blueprints, &c.registration)
            .expect("checked before registering");
        for p in &c.parts {
            let linked = link(*id, p);
            let clock = clock_of(bp, &c.registration, p);
            rows.extend([
                V::Int(*id),
                V::Int(i64::from(p.part)),
                // Stored as the same 64 bits, as `start_part` stores it.
                V::Int(p.form.seed as i64),
                serde_json::to_string(&p.form)
                    .expect("a form serialises")
                    .into(),
                V::Int(clock.started_at),
                V::Int(clock.section_ms),
                V::Int(i64::from(clock.multiplier.permille())),
                V::Int(i64::from(bp.part_two.max_characters)),
                V::Int(i64::from(bp.break_minutes) * 60_000),
                // As submitted: the receipt is the chain's head.
                linked.head.clone().into(),
                V::Int(linked.len),
                V::Int(p.submitted_at),
                "candidate".into(),
                serde_json::to_string(&linked.answers)
                    .expect("answers serialise")
                    .into(),
            ]);
            parts.push(((*id, p.part), (p, linked)));
        }
    }
    let mut attempt_ids: HashMap<(i64, u8), i64> = HashMap::new();
    const COLS: usize = 14;
    for chunk in rows.chunks(MAX_BINDS / COLS * COLS) {
        let sql = statement(
            backend,
            "INSERT INTO attempts (registration_id, part, seed, form, started_at, section_ms,
                multiplier_permille, max_response_chars, break_max_ms, chain_head, chain_len,
                submitted_at, submitted_by, final_answers)",
            chunk.len() / COLS,
            COLS,
            "RETURNING id, registration_id, part",
        );
        let mut q = sqlx::query_as::<_, (i64, i64, i64)>(&sql);
        for v in chunk {
            q = match v {
                V::Int(i) => q.bind(*i),
                V::Text(s) => q.bind(s.as_str()),
            };
        }
        for (id, reg, part) in q.fetch_all(&mut **tx).await? {
            attempt_ids.insert((reg, u8::try_from(part).unwrap_or(0)), id);
        }
    }
    let mut items = Vec::new();
    let mut events = Vec::new();
    let mut responses = Vec::new();
    let mut receipts = Vec::new();
    for (key, (p, linked)) in &parts {
        let attempt = attempt_ids[key];
        // As submitted: the receipt is the chain's head.
        receipts.extend([
            V::Int(attempt),
            linked.head.as_str().into(),
            V::Int(linked.len),
        ]);
        for object in p.form.ids() {
            items.extend([V::Int(attempt), object.into()]);
        }
        for e in &linked.events {
            events.extend([
                V::Int(attempt),
                V::Int(i64::try_from(e.n).unwrap_or(i64::MAX)),
                e.save.item_id.as_str().into(),
                e.save.answer.as_str().into(),
                V::Int(i64::try_from(e.save.seq).unwrap_or(i64::MAX)),
                V::Int(e.save.at_ms),
                e.prev_hash.as_str().into(),
                e.hash.as_str().into(),
            ]);
        }
        if p.part == 2 {
            responses.extend(coded(attempt, p, &linked.answers));
        }
    }
    insert(
        tx,
        backend,
        "INSERT INTO form_items (attempt_id, object_id)",
        2,
        &items,
    )
    .await?;
    insert(
        tx,
        backend,
        "INSERT INTO attempt_receipts (attempt_id, receipt_hash, receipt_len)",
        3,
        &receipts,
    )
    .await?;
    insert(
        tx,
        backend,
        "INSERT INTO response_events (attempt_id, n, item_id, answer, seq, at_ms, prev_hash, hash)",
        8,
        &events,
    )
    .await?;
    let n_responses = responses.len();
    insert_responses(tx, backend, sitting.id, responses).await?;
    Ok((parts.len(), events.len() / 8, n_responses))
}

/// A Part Two response to code: what `code_responses` inserts for it, but its code.
struct Response<'a> {
    attempt_id: i64,
    item_id: &'a str,
    item_version: u32,
    vignette_id: &'a str,
    vignette_version: u32,
    body: &'a str,
    submitted_at: i64,
}

/// The responses a submitted Part Two gets, as `ratings::code_responses` makes them: one per
/// item of each vignette the candidate chose.
fn coded<'a>(
    attempt_id: i64,
    p: &'a TakenPart,
    answers: &'a BTreeMap<String, String>,
) -> Vec<Response<'a>> {
    let chosen: BTreeSet<&str> = answers
        .get("@choice")
        .map(|c| c.split(',').filter(|v| !v.is_empty()).collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    for v in p
        .form
        .part_two
        .iter()
        .filter(|v| chosen.contains(v.vignette_id.as_str()))
    {
        for (item_id, version) in &v.items {
            out.push(Response {
                attempt_id,
                item_id,
                item_version: *version,
                vignette_id: &v.vignette_id,
                vignette_version: v.version,
                body: answers.get(item_id).map(|s| s.trim()).unwrap_or_default(),
                submitted_at: p.submitted_at,
            });
        }
    }
    out
}

/// Inserts coded responses, each under a fresh random code; a code that collides with one
/// stored already is drawn again. A blank response is settled with its submission (its score,
/// 0, is written by the caller).
async fn insert_responses(
    tx: &mut WriteTx,
    backend: Backend,
    sitting_id: i64,
    mut todo: Vec<Response<'_>>,
) -> Result<()> {
    const COLS: usize = 10;
    for _ in 0..5 {
        if todo.is_empty() {
            return Ok(());
        }
        let mut left = Vec::new();
        let mut rest = todo.into_iter().peekable();
        while rest.peek().is_some() {
            let chunk: Vec<Response> = rest.by_ref().take(MAX_BINDS / COLS).collect();
            let sql = statement(
                backend,
                "INSERT INTO responses (code, sitting_id, attempt_id, item_id, item_version,
                    vignette_id, vignette_version, body, settled_at, created_at)",
                chunk.len(),
                COLS,
                "ON CONFLICT DO NOTHING RETURNING attempt_id, item_id",
            );
            let mut q = sqlx::query_as::<_, (i64, String)>(&sql);
            for r in &chunk {
                q = q
                    .bind(crate::auth::new_response_code())
                    .bind(sitting_id)
                    .bind(r.attempt_id)
                    .bind(r.item_id)
                    .bind(i64::from(r.item_version))
                    .bind(r.vignette_id)
                    .bind(i64::from(r.vignette_version))
                    .bind(r.body)
                    .bind(r.body.is_empty().then_some(r.submitted_at))
                    .bind(r.submitted_at);
            }
            let stored: BTreeSet<(i64, String)> =
                q.fetch_all(&mut **tx).await?.into_iter().collect();
            left.extend(
                chunk
                    .into_iter()
                    .filter(|r| !stored.contains(&(r.attempt_id, r.item_id.to_string()))),
            );
        }
        todo = left;
    }
    Err(StoreError::Sqlx(sqlx::Error::Protocol(
        "could not draw unique response codes".into(),
    )))
}

#[cfg(test)]
mod tests;
