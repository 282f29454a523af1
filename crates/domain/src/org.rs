//! The organisation as routing sees it: people with their manager, department and roles,
//! departments with their parent and head, and scheduled out-of-office delegations.
//!
//! It is a snapshot passed in as data (the server builds it from its store, the client from
//! its cache), so routing stays a pure function and a test states the whole org in a few
//! lines. Walks up manager and department chains are bounded, so a cycle in bad data ends
//! the walk instead of the process.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Deeper than any real hierarchy; a chain longer than this is a cycle in the data.
const MAX_CHAIN: usize = 64;
/// How far a delegation may be forwarded (A → B → C) before it is treated as a loop.
const MAX_DELEGATION_HOPS: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct OrgSnapshot {
    #[serde(default)]
    pub people: BTreeMap<Uuid, Person>,
    #[serde(default)]
    pub departments: BTreeMap<Uuid, Department>,
    #[serde(default)]
    pub delegations: Vec<Delegation>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<Uuid>,
    /// Roles and positions (`finance`, `it_admin`, `finance_director`, `hr`).
    #[serde(default)]
    pub roles: BTreeSet<String>,
    /// People who left keep their history but are never routed to (requirement S3).
    #[serde(default = "yes")]
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<Uuid>,
}

/// `from` is out of office in `[starts_at, ends_at)`; tasks opened for them then go to `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delegation {
    pub from: Uuid,
    pub to: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl OrgSnapshot {
    pub fn person(&self, id: Uuid) -> Option<&Person> {
        self.people.get(&id)
    }

    pub fn is_active(&self, id: Uuid) -> bool {
        self.people.get(&id).is_some_and(|p| p.active)
    }

    /// The manager `levels` up from `person` (1 = direct manager).
    pub fn manager_of(&self, person: Uuid, levels: u8) -> Option<Uuid> {
        let mut current = person;
        for _ in 0..levels.min(MAX_CHAIN as u8) {
            current = self.people.get(&current)?.manager?;
        }
        (current != person).then_some(current)
    }

    /// `department` and every department above it.
    pub fn department_chain(&self, department: Uuid) -> BTreeSet<Uuid> {
        let mut chain = BTreeSet::new();
        let mut current = Some(department);
        while let Some(id) = current {
            if !chain.insert(id) || chain.len() > MAX_CHAIN {
                break;
            }
            current = self.departments.get(&id).and_then(|d| d.parent);
        }
        chain
    }

    /// The departments `person` belongs to, directly or through a parent.
    pub fn departments_of(&self, person: Uuid) -> BTreeSet<Uuid> {
        self.people
            .get(&person)
            .and_then(|p| p.department)
            .map(|d| self.department_chain(d))
            .unwrap_or_default()
    }

    pub fn head_of(&self, department: Uuid) -> Option<Uuid> {
        self.departments.get(&department)?.head
    }

    /// Active people holding `role`, in id order so routing is deterministic. With
    /// `within`, only those in that department or below it.
    pub fn with_role(&self, role: &str, within: Option<Uuid>) -> Vec<Uuid> {
        self.people
            .iter()
            .filter(|(_, p)| p.active && p.roles.contains(role))
            .filter(|(id, _)| within.is_none_or(|d| self.departments_of(**id).contains(&d)))
            .map(|(id, _)| *id)
            .collect()
    }

    /// Who acts for `person` at `at`: their delegate if they are out of office (following a
    /// delegate who is away too), or `None` if they act themselves. A loop or an inactive
    /// delegate leaves the task with the person: better late than with nobody.
    pub fn delegate_for(&self, person: Uuid, at: DateTime<Utc>) -> Option<Uuid> {
        let mut current = person;
        let mut seen = vec![person];
        for _ in 0..MAX_DELEGATION_HOPS {
            let next = self
                .delegations
                .iter()
                .find(|d| d.from == current && d.starts_at <= at && at < d.ends_at)
                .map(|d| d.to);
            match next {
                Some(to) if seen.contains(&to) || !self.is_active(to) => return None,
                Some(to) => {
                    seen.push(to);
                    current = to;
                }
                None => break,
            }
        }
        (current != person).then_some(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn person(dept: u128, manager: Option<u128>, roles: &[&str]) -> Person {
        Person {
            name: String::new(),
            department: Some(id(dept)),
            manager: manager.map(id),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            active: true,
        }
    }

    #[test]
    fn chains_are_bounded_and_cycle_safe() {
        let mut org = OrgSnapshot::default();
        org.people.insert(id(1), person(100, Some(2), &[]));
        org.people.insert(id(2), person(100, Some(3), &["finance"]));
        org.people.insert(id(3), person(101, Some(2), &[]));
        org.departments.insert(
            id(100),
            Department {
                name: "a".into(),
                parent: Some(id(101)),
                head: Some(id(2)),
            },
        );
        org.departments.insert(
            id(101),
            Department {
                name: "b".into(),
                parent: Some(id(100)),
                head: None,
            },
        );
        assert_eq!(org.manager_of(id(1), 1), Some(id(2)));
        assert_eq!(org.manager_of(id(1), 2), Some(id(3)));
        assert_eq!(
            org.manager_of(id(2), 2),
            None,
            "a manager cycle back to oneself is nobody"
        );
        assert_eq!(org.manager_of(id(9), 1), None);
        assert_eq!(
            org.department_chain(id(100)).len(),
            2,
            "department cycle ends"
        );
        assert_eq!(org.with_role("finance", Some(id(101))), vec![id(2)]);
    }

    #[test]
    fn delegation_windows_and_loops() {
        let at = |h| {
            Utc.with_ymd_and_hms(2026, 3, 9, h, 0, 0)
                .single()
                .expect("time")
        };
        let mut org = OrgSnapshot::default();
        for n in 1..=3 {
            org.people.insert(id(n), person(100, None, &[]));
        }
        org.delegations.push(Delegation {
            from: id(1),
            to: id(2),
            starts_at: at(1),
            ends_at: at(5),
        });
        org.delegations.push(Delegation {
            from: id(2),
            to: id(3),
            starts_at: at(3),
            ends_at: at(5),
        });
        assert_eq!(org.delegate_for(id(1), at(0)), None, "before the window");
        assert_eq!(org.delegate_for(id(1), at(1)), Some(id(2)));
        assert_eq!(
            org.delegate_for(id(1), at(3)),
            Some(id(3)),
            "delegate is away too"
        );
        assert_eq!(
            org.delegate_for(id(1), at(5)),
            None,
            "window end is exclusive"
        );
        org.delegations.push(Delegation {
            from: id(3),
            to: id(1),
            starts_at: at(3),
            ends_at: at(5),
        });
        assert_eq!(
            org.delegate_for(id(1), at(4)),
            None,
            "a loop keeps the task with its owner"
        );
    }
}
