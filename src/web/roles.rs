//! Role checks as extractors: a handler names who may call it in its signature
//! (`Proctor(me): Proctor`), so a handler without a check does not compile into one that
//! reads the signed-in user, and the role set of every route is visible where it is routed.
//!
//! Each extractor resolves the [`Visitor`] and refuses as the pages always have: nobody signed
//! in goes to `/login?next=...` (a candidate to `/enter`), a signed-in member of another role
//! gets the 403 page naming the roles that may. A candidate's exam pages go one step further
//! with [`OpenAttempt`]: the part must be started, not submitted, not voided and in time.

use axum::extract::{FromRequestParts, Path, RawPathParams};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};

use crate::auth::Role;
use crate::store::attempts::{self, Attempt};
use crate::store::now_ms;
use crate::store::sittings::{self, Registration, Sitting};
use crate::store::studies::{self, Study};
use crate::store::users::{Principal, User};

use super::error::AppError;
use super::session::Visitor;
use super::AppState;

/// The signed-in staff member, if their role is one of `roles`. Private: handlers ask for an
/// extractor below instead, so no handler can forget to call it.
fn require(visitor: Visitor, roles: &[Role]) -> Result<User, AppError> {
    match visitor.principal {
        Some(Principal::Staff(u)) if roles.contains(&u.role) => Ok(u),
        Some(Principal::Staff(_)) => Err(AppError::Forbidden(
            roles
                .iter()
                .map(|r| r.title().to_lowercase())
                .collect::<Vec<_>>()
                .join(" or "),
        )),
        _ => Err(AppError::LoginRequired { next: visitor.path }),
    }
}

macro_rules! staff_extractor {
    ($(#[$doc:meta])* $name:ident, $roles:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub User);

        impl $name {
            /// The roles this extractor admits, in the order the 403 page names them.
            pub const ROLES: &'static [Role] = $roles;
        }

        impl FromRequestParts<AppState> for $name {
            type Rejection = AppError;
            async fn from_request_parts(
                parts: &mut Parts,
                state: &AppState,
            ) -> Result<Self, Self::Rejection> {
                let visitor = Visitor::from_request_parts(parts, state).await?;
                require(visitor, Self::ROLES).map($name)
            }
        }
    };
}

staff_extractor!(
    /// An administrator: staff accounts and the item bank.
    Admin,
    &[Role::Admin]
);
staff_extractor!(
    /// Whoever runs a sitting: a proctor, or an administrator standing in for one.
    Proctor,
    &[Role::Admin, Role::Proctor]
);
staff_extractor!(
    /// The scoring committee, or an administrator: scoring, keys, results and statistics.
    Committee,
    &[Role::Committee, Role::Admin]
);
staff_extractor!(
    /// A rater, and only a rater: an administrator does not score responses.
    Rater,
    &[Role::Rater]
);
staff_extractor!(
    /// A member of a standard-setting panel: an invited panelist, or a committee member who
    /// sits on a panel. Which studies they may see is checked per study ([`OnPanel`]).
    PanelMember,
    &[Role::Panelist, Role::Committee]
);

staff_extractor!(
    /// Any staff member, whatever their role: their own account's pages.
    Staff,
    &Role::ALL
);

/// A panel member and the study the route's `{id}` names, when they sit on its panel. The
/// panel is checked in the query that reads the study, so a study they are not on is a 404,
/// the same as one that does not exist: nothing of it (not even that it exists) is shown.
#[derive(Debug, Clone)]
pub struct OnPanel {
    pub user: User,
    pub study: Study,
}

impl FromRequestParts<AppState> for OnPanel {
    type Rejection = AppError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let PanelMember(user) = PanelMember::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound)?;
        let id = params
            .iter()
            .find(|(k, _)| *k == "id")
            .and_then(|(_, v)| v.parse::<i64>().ok())
            .ok_or(AppError::NotFound)?;
        let study = studies::panel_study(&state.db, id, &user.username)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(OnPanel { user, study })
    }
}

/// The candidate behind this browser, if this browser holds their registration. Every page
/// the candidate opens counts as being heard from, script or not (written down at most every
/// `SEEN_EVERY`, so a page view rarely touches the saves' writer).
#[derive(Debug, Clone)]
pub struct Candidate {
    pub reg: Registration,
    pub sitting: Sitting,
}

impl FromRequestParts<AppState> for Candidate {
    type Rejection = AppError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // The session, its registration and its sitting in one query: every candidate page
        // starts here.
        let session = session_hash(parts);
        let found = match &session {
            Some(hash) => sittings::candidate_by_session(&state.db, hash).await?,
            None => None,
        };
        let (reg, sitting) = admit(state, &session, found).await?;
        Ok(Candidate { reg, sitting })
    }
}

/// The SHA-256 of the request's candidate session token, if it has one.
fn session_hash(parts: &Parts) -> Option<String> {
    axum_extra::extract::CookieJar::from_headers(&parts.headers)
        .get(super::session::SESSION_COOKIE)
        .map(|c| crate::auth::sha256_hex(c.value()))
}

/// A candidate page's checks on what its session found: signed in, and in the browser the
/// registration holds now; and the candidate heard from (written at most every `SEEN_EVERY`).
async fn admit(
    state: &AppState,
    session: &Option<String>,
    found: Option<(Registration, Sitting)>,
) -> Result<(Registration, Sitting), AppError> {
    let Some((reg, sitting)) = found else {
        return Err(AppError::LoginRequired {
            next: "/enter".into(),
        });
    };
    super::observe::record_sitting(sitting.id);
    if reg.active_session.is_none() || reg.active_session != *session {
        return Err(AppError::BadRequest(
            "Your exam has been moved to another browser by your proctor. Ask your proctor if this is unexpected.".into(),
        ));
    }
    if !state.seen.contains_key(&reg.id) {
        sittings::touch(&state.db, reg.id).await?;
        state.seen.insert(reg.id, ());
    }
    Ok((reg, sitting))
}

/// A part number from the path: 1 or 2, anything else is a page that does not exist (not a
/// database error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartNo(pub u8);

impl PartNo {
    /// The part a path segment names, read as a `u8` is (so `01` is Part 1 too).
    pub fn parse(segment: &str) -> Option<PartNo> {
        match segment.parse::<u8>() {
            Ok(n @ (1 | 2)) => Some(PartNo(n)),
            _ => None,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PartNo {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(segment)) => PartNo::parse(&segment).ok_or(AppError::NotFound),
            Err(_) => Err(AppError::NotFound),
        }
    }
}

/// `OpenAttempt<PART_IN_PATH>` is the open attempt of the part the route's `{part}` names,
/// read as [`PartNo`] reads it (1 or 2, else 404). A constant rather than a second type: the
/// handlers' signatures, fields and refusals stay the same whichever way the part is known.
pub const PART_IN_PATH: u8 = 0;

/// The candidate's attempt of Part `PART` (1, 2, or [`PART_IN_PATH`]), while it is open and
/// its time has not run out. Otherwise the candidate is sent where the part stands: to
/// `/candidate` when it was never started or was voided, to `/exam/{part}/receipt` when it is
/// submitted or out of time. A handler that asks for it cannot save into a closed part.
#[derive(Debug, Clone)]
pub struct OpenAttempt<const PART: u8> {
    pub reg: Registration,
    pub sitting: Sitting,
    pub attempt: Attempt,
    /// The number of the attempt's newest saved event, as read with it (`None` before the
    /// first save): what its current answers are read up to.
    pub newest_event: Option<i64>,
}

impl<const PART: u8> FromRequestParts<AppState> for OpenAttempt<PART> {
    /// A redirect as often as an error page, so a response either way.
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        const { assert!(PART <= 2, "OpenAttempt<PART>: PART is 1, 2 or PART_IN_PATH") };
        let part = if PART == PART_IN_PATH {
            match PartNo::from_request_parts(parts, state).await {
                Ok(p) => p.0,
                // Not a part: still "sign in" before "not found", as for any candidate page.
                Err(not_found) => {
                    Candidate::from_request_parts(parts, state)
                        .await
                        .map_err(IntoResponse::into_response)?;
                    return Err(not_found.into_response());
                }
            }
        } else {
            PART
        };
        // The session, registration, sitting and attempt in one query: every exam page's
        // start, one round trip.
        let session = session_hash(parts);
        let found = match &session {
            Some(hash) => attempts::candidate_attempt(&state.db, hash, part)
                .await
                .map_err(|e| AppError::from(e).into_response())?,
            None => None,
        };
        let (who, found) = match found {
            Some((who, attempt)) => (Some(who), attempt),
            None => (None, None),
        };
        let (reg, sitting) = admit(state, &session, who)
            .await
            .map_err(IntoResponse::into_response)?;
        let (attempt, newest_event) = match found {
            Some((a, n)) => (Some(a), n),
            None => (None, None),
        };
        if let Some(a) = &attempt {
            super::observe::record_attempt(a.id);
        }
        match open_or_elsewhere(attempt, part, now_ms()) {
            Ok(attempt) => Ok(OpenAttempt {
                reg,
                sitting,
                attempt,
                newest_event,
            }),
            Err(to) => Err(Redirect::to(&to).into_response()),
        }
    }
}

/// The candidate's attempt of `part` if it is open at `now`, else the page to send them to.
fn open_or_elsewhere(attempt: Option<Attempt>, part: u8, now: i64) -> Result<Attempt, String> {
    match attempt {
        None => Err("/candidate".into()),
        Some(a) if a.is_open() && !a.clock.expired(now) => Ok(a),
        Some(a) if a.voided_at.is_some() => Err("/candidate".into()),
        Some(_) => Err(format!("/exam/{part}/receipt")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visitor(role: Option<Role>) -> Visitor {
        Visitor {
            principal: role.map(|role| {
                Principal::Staff(User {
                    id: 7,
                    username: "pat".into(),
                    display_name: "Pat".into(),
                    role,
                    organisation: String::new(),
                    password_hash: String::new(),
                    disabled: false,
                })
            }),
            session_hash: None,
            path: "/scoring/3?tab=a b".into(),
        }
    }

    #[test]
    fn the_committee_set_refuses_a_proctor_with_the_roles_that_may() {
        let err = require(visitor(Some(Role::Proctor)), Committee::ROLES).unwrap_err();
        assert!(
            matches!(&err, AppError::Forbidden(who) if who == "exam committee or administrator"),
            "{err:?}"
        );
    }

    #[test]
    fn the_committee_set_admits_committee_and_admin_only() {
        for role in [Role::Committee, Role::Admin] {
            let u = require(visitor(Some(role)), Committee::ROLES).unwrap();
            assert_eq!((u.id, u.role), (7, role));
        }
        for role in [Role::Proctor, Role::Rater, Role::Panelist] {
            assert!(require(visitor(Some(role)), Committee::ROLES).is_err());
        }
    }

    #[test]
    fn a_panelist_is_refused_every_other_staff_set() {
        for roles in [Admin::ROLES, Proctor::ROLES, Committee::ROLES, Rater::ROLES] {
            assert!(require(visitor(Some(Role::Panelist)), roles).is_err());
        }
        for role in [Role::Panelist, Role::Committee] {
            assert!(require(visitor(Some(role)), PanelMember::ROLES).is_ok());
        }
        for role in [Role::Admin, Role::Proctor, Role::Rater] {
            let err = require(visitor(Some(role)), PanelMember::ROLES).unwrap_err();
            assert!(
                matches!(&err, AppError::Forbidden(who) if who == "panelist or exam committee"),
                "{err:?}"
            );
        }
    }

    #[test]
    fn nobody_signed_in_is_sent_to_log_in_and_back() {
        let err = require(visitor(None), Proctor::ROLES).unwrap_err();
        assert!(
            matches!(&err, AppError::LoginRequired { next } if next == "/scoring/3?tab=a b"),
            "{err:?}"
        );
    }

    #[test]
    fn the_role_sets_are_the_ones_the_pages_always_had() {
        assert_eq!(Admin::ROLES, &[Role::Admin]);
        assert_eq!(Proctor::ROLES, &[Role::Admin, Role::Proctor]);
        assert_eq!(Committee::ROLES, &[Role::Committee, Role::Admin]);
        assert_eq!(Rater::ROLES, &[Role::Rater]);
        assert_eq!(PanelMember::ROLES, &[Role::Panelist, Role::Committee]);
    }

    #[test]
    fn a_part_in_the_path_is_one_or_two() {
        assert_eq!(PartNo::parse("1"), Some(PartNo(1)));
        assert_eq!(PartNo::parse("2"), Some(PartNo(2)));
        // As a `u8` reads it, which the route always did.
        assert_eq!(PartNo::parse("02"), Some(PartNo(2)));
        for bad in ["0", "3", "255", "256", "-1", "", " 1", "one", "1.0"] {
            assert_eq!(PartNo::parse(bad), None, "{bad:?}");
        }
    }

    const T0: i64 = 1_700_000_000_000;
    const MINUTE: i64 = 60_000;

    /// Part `part`, started at `T0` with 90 minutes.
    fn attempt(part: u8) -> Attempt {
        use crate::exam::clock::{Clock, Multiplier};
        use crate::exam::form::Form;
        Attempt {
            id: 5,
            registration_id: 3,
            part,
            form: std::sync::Arc::new(Form {
                seed: 1,
                blueprint: "bp".into(),
                level: crate::bank::Level::III,
                part_one: vec![],
                part_two: vec![],
            }),
            clock: Clock::start(T0, 90, Multiplier::STANDARD),
            chain_head: String::new(),
            chain_len: 0,
            last_save_at: None,
            submitted_at: None,
            submitted_by: None,
            voided_at: None,
            void_reason: None,
            paused_by: None,
            max_response_chars: 1000,
            break_max_ms: 0,
        }
    }

    #[test]
    fn an_open_attempt_in_time_is_let_through() {
        let a = open_or_elsewhere(Some(attempt(2)), 2, T0 + 89 * MINUTE).unwrap();
        assert_eq!((a.id, a.part), (5, 2));
    }

    #[test]
    fn a_part_never_started_or_voided_sends_the_candidate_home() {
        assert_eq!(open_or_elsewhere(None, 1, T0).unwrap_err(), "/candidate");
        let mut voided = attempt(1);
        voided.voided_at = Some(T0 + MINUTE);
        assert_eq!(
            open_or_elsewhere(Some(voided), 1, T0 + 2 * MINUTE).unwrap_err(),
            "/candidate"
        );
    }

    #[test]
    fn a_part_submitted_or_out_of_time_sends_the_candidate_to_its_receipt() {
        let mut submitted = attempt(2);
        submitted.submitted_at = Some(T0 + MINUTE);
        assert_eq!(
            open_or_elsewhere(Some(submitted), 2, T0 + 2 * MINUTE).unwrap_err(),
            "/exam/2/receipt"
        );
        assert_eq!(
            open_or_elsewhere(Some(attempt(1)), 1, T0 + 90 * MINUTE).unwrap_err(),
            "/exam/1/receipt"
        );
    }

    #[test]
    fn a_paused_clock_never_runs_out() {
        let mut paused = attempt(1);
        paused.clock.pause(T0 + 10 * MINUTE);
        assert!(open_or_elsewhere(Some(paused), 1, T0 + 200 * MINUTE).is_ok());
    }
}
