//! Adding people to the organisation (the `user add` command and the demo seed).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::auth::{normalise_username, password};
use crate::store::{AuditEntry, Person, PersonStatus, Store, StoreError};

/// The roles a person can hold (requirement S2). What each may do is decided by the policy
/// module; an unknown role name is refused rather than silently granting nothing.
pub const ROLES: [&str; 9] = [
    "employee",
    "manager",
    "hr",
    "finance",
    "it_admin",
    "process_admin",
    "auditor",
    "support_agent",
    "admin",
];

#[derive(Debug, Clone)]
pub struct NewPerson {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub department_code: Option<String>,
    pub manager_username: Option<String>,
    pub roles: Vec<String>,
    /// Routing positions such as `finance_director` or `it_head`.
    pub positions: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AddPersonError {
    #[error(
        "'{0}' is not a valid user name: use 2–64 lower-case letters, digits, '.', '_' or '-', \
         starting with a letter or digit"
    )]
    BadUsername(String),
    #[error("the display name must not be empty")]
    EmptyDisplayName,
    #[error("unknown role '{0}' (known roles: {known})", known = ROLES.join(", "))]
    UnknownRole(String),
    #[error("no department with code '{0}'")]
    UnknownDepartment(String),
    #[error("no person with user name '{0}' to be the manager")]
    UnknownManager(String),
    #[error("the user name '{0}' is already taken")]
    Taken(String),
    #[error(transparent)]
    Password(#[from] password::PasswordError),
    #[error(transparent)]
    Store(StoreError),
}

pub fn valid_username(username: &str) -> bool {
    let len = username.chars().count();
    (2..=64).contains(&len)
        && username
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

/// Adds an active person with a password. Every reference is checked first, so nothing is
/// written unless all of it is right.
pub async fn add_person(
    store: &dyn Store,
    new: NewPerson,
    password_plain: String,
    now: DateTime<Utc>,
) -> Result<Person, AddPersonError> {
    let username = normalise_username(&new.username);
    if !valid_username(&username) {
        return Err(AddPersonError::BadUsername(new.username));
    }
    let display_name = new.display_name.trim().to_owned();
    if display_name.is_empty() {
        return Err(AddPersonError::EmptyDisplayName);
    }
    let mut roles = if new.roles.is_empty() {
        vec!["employee".to_owned()]
    } else {
        new.roles
    };
    roles.sort();
    roles.dedup();
    if let Some(unknown) = roles.iter().find(|r| !ROLES.contains(&r.as_str())) {
        return Err(AddPersonError::UnknownRole(unknown.clone()));
    }
    let department_id = match &new.department_code {
        Some(code) => Some(
            store
                .find_department_by_code(code)
                .await
                .map_err(AddPersonError::Store)?
                .ok_or_else(|| AddPersonError::UnknownDepartment(code.clone()))?
                .id,
        ),
        None => None,
    };
    let manager_id = match &new.manager_username {
        Some(name) => Some(
            store
                .find_person_by_username(&normalise_username(name))
                .await
                .map_err(AddPersonError::Store)?
                .ok_or_else(|| AddPersonError::UnknownManager(name.clone()))?
                .id,
        ),
        None => None,
    };
    let hash = tokio::task::spawn_blocking(move || password::hash(&password_plain))
        .await
        .map_err(|e| password::PasswordError::Hash(e.to_string()))??;
    let person = Person {
        id: Uuid::now_v7(),
        username: username.clone(),
        display_name,
        email: new.email,
        department_id,
        manager_id,
        roles,
        positions: new.positions,
        status: PersonStatus::Active,
        password_hash: Some(hash),
        created_at: now,
        last_sign_in_at: None,
        version: 1,
    };
    let audit = AuditEntry::system(now, "person.create", format!("person:{}", person.id));
    match store.insert_person(&person, &audit).await {
        Ok(()) => Ok(person),
        Err(StoreError::Conflict { .. }) => Err(AddPersonError::Taken(username)),
        Err(e) => Err(AddPersonError::Store(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::valid_username;

    #[test]
    fn user_names_are_plain_lower_case_identifiers() {
        for ok in ["li.wei", "wang_fang", "a1", "x-2"] {
            assert!(valid_username(ok), "{ok} should be accepted");
        }
        for bad in ["", "a", "Li.Wei", ".hidden", "a b", "王芳", &"x".repeat(65)] {
            assert!(!valid_username(bad), "{bad} should be refused");
        }
    }
}
