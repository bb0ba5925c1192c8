//! Role checks as extractors: a handler names who may call it in its signature
//! (`Proctor(me): Proctor`), so a handler without a check does not compile into one that
//! reads the signed-in user, and the role set of every route is visible where it is routed.
//!
//! Each extractor resolves the [`Visitor`] and refuses as the pages always have: nobody signed
//! in goes to `/login?next=...` (a candidate to `/enter`), a signed-in member of another role
//! gets the 403 page naming the roles that may.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::auth::Role;
use crate::store::sittings::{self, Registration, Sitting};
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

/// The candidate behind this browser, if this browser holds their registration. Every page
/// the candidate opens counts as being heard from, script or not.
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
        let visitor = Visitor::from_request_parts(parts, state).await?;
        let Some(Principal::Candidate { access_code_id, .. }) = &visitor.principal else {
            return Err(AppError::LoginRequired {
                next: "/enter".into(),
            });
        };
        let reg = sittings::registration_by_code(&state.db, *access_code_id)
            .await?
            .ok_or(AppError::NotFound)?;
        if reg.active_session.is_none() || reg.active_session != visitor.session_hash {
            return Err(AppError::BadRequest(
                "Your exam has been moved to another browser by your proctor. Ask your proctor if this is unexpected.".into(),
            ));
        }
        let sitting = sittings::sitting(&state.db, reg.sitting_id)
            .await?
            .ok_or(AppError::NotFound)?;
        sittings::touch(&state.db, reg.id).await?;
        Ok(Candidate { reg, sitting })
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
        for role in [Role::Proctor, Role::Rater] {
            assert!(require(visitor(Some(role)), Committee::ROLES).is_err());
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
    }
}
