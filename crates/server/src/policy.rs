//! Who may do what (requirement S2): roles grant permissions, every route names the access it
//! needs, and the row rules here decide which records a person may see. Deny by default: a
//! role grants nothing it does not list, an unknown role grants nothing at all, and the
//! router is built from a table in which every route must state its access.

use uuid::Uuid;

use crate::store::Person;

/// What a route or an action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// Use the product at all: the directory, templates, submitting and acting on requests
    /// one takes part in, the change feed. Every employee has it.
    Work,
    /// Read every request, not only those one takes part in (auditors).
    ReadAllRequests,
    /// Read and query the audit log (auditors).
    ReadAudit,
    /// Organisation reports: dormant accounts, process figures.
    ReadReports,
    /// Departures and transfers: change roles, revoke sessions, reassign tasks (HR, admins).
    ManagePeople,
    /// Open and disable accounts; receive activation secrets (IT).
    ManageAccounts,
    /// Propose new template versions for a process-change request (process admins).
    ProposeTemplates,
}

/// Every permission, for tests that walk the whole matrix.
pub const ALL_PERMISSIONS: [Permission; 7] = [
    Permission::Work,
    Permission::ReadAllRequests,
    Permission::ReadAudit,
    Permission::ReadReports,
    Permission::ManagePeople,
    Permission::ManageAccounts,
    Permission::ProposeTemplates,
];

/// What each role grants. Managers, finance and support agents get their work through
/// routing (approvals come to them), not through extra permissions.
pub fn granted_by(role: &str) -> &'static [Permission] {
    use Permission::*;
    match role {
        "employee" | "manager" | "finance" | "support_agent" => &[Work],
        "hr" => &[Work, ManagePeople],
        "it_admin" => &[Work, ManageAccounts, ReadReports],
        "process_admin" => &[Work, ProposeTemplates],
        "auditor" => &[Work, ReadAllRequests, ReadAudit, ReadReports],
        // Administration, not oversight: an administrator does not read everyone's requests
        // or the audit log (separation of duties, S13).
        "admin" => &[Work, ManagePeople, ManageAccounts, ReadReports],
        _ => &[],
    }
}

/// True when any of `person`'s roles grants `permission`.
pub fn has(person: &Person, permission: Permission) -> bool {
    person
        .roles
        .iter()
        .any(|role| granted_by(role).contains(&permission))
}

/// What a route requires of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token: health checks, server identity, sign-in itself.
    Public,
    /// Any signed-in person, whatever their roles (their own profile and sessions).
    SignedIn,
    /// A signed-in person holding this permission.
    Requires(Permission),
}

impl Access {
    pub fn allows(self, person: &Person) -> bool {
        match self {
            Access::Public | Access::SignedIn => true,
            Access::Requires(permission) => has(person, permission),
        }
    }
}

/// Whether `person` may see a request: its participants (initiator, approvers past and
/// present, delegates, CC) and those who may read every request.
pub fn can_see_request(person: &Person, is_participant: bool) -> bool {
    is_participant || has(person, Permission::ReadAllRequests)
}

/// An administrator may reassign anyone's open task (departures, S3).
pub fn acts_as_admin(person: &Person) -> bool {
    has(person, Permission::ManagePeople)
}

/// The person ids a request's changes are shown to: everyone who takes part.
pub fn request_audience(state: &countersign_domain::engine::RequestState) -> Vec<Uuid> {
    use countersign_domain::workflow::PlannedKind;
    let mut people = vec![state.initiator];
    for task in &state.tasks {
        people.push(task.assignee);
        people.push(task.seat);
    }
    for step in &state.route {
        match &step.kind {
            PlannedKind::Approval { approvers, .. } => people.extend(approvers),
            PlannedKind::Cc { recipients } => people.extend(recipients),
            PlannedKind::Skipped => {}
        }
    }
    people.sort();
    people.dedup();
    people
}

/// Who `after`'s audience has that `before`'s did not (everyone for a new request, `before`
/// being `None`): the participant rows a change must add. A comment or a decision along the
/// planned route adds none.
pub fn audience_added(
    before: Option<&countersign_domain::engine::RequestState>,
    after: &countersign_domain::engine::RequestState,
) -> Vec<Uuid> {
    // `request_audience` answers sorted and without repeats, which the search relies on.
    let had = before.map(request_audience).unwrap_or_default();
    request_audience(after)
        .into_iter()
        .filter(|person| had.binary_search(person).is_err())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(roles: &[&str]) -> Person {
        Person {
            id: Uuid::nil(),
            username: "p".into(),
            display_name: "P".into(),
            email: None,
            department_id: None,
            manager_id: None,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            positions: vec![],
            status: crate::store::PersonStatus::Active,
            password_hash: None,
            created_at: chrono::DateTime::UNIX_EPOCH,
            last_sign_in_at: None,
            version: 1,
        }
    }

    #[test]
    fn nobody_gets_a_permission_their_roles_do_not_list() {
        assert!(!has(&person(&[]), Permission::Work), "no role, no work");
        assert!(
            !has(&person(&["superuser"]), Permission::Work),
            "unknown roles grant nothing"
        );
        assert!(!has(&person(&["employee"]), Permission::ReadAudit));
        assert!(
            !has(&person(&["admin"]), Permission::ReadAudit),
            "admins are not auditors"
        );
        assert!(!has(&person(&["admin"]), Permission::ReadAllRequests));
        assert!(has(&person(&["auditor"]), Permission::ReadAudit));
        assert!(has(&person(&["employee", "hr"]), Permission::ManagePeople));
    }

    #[test]
    fn a_request_is_visible_to_its_participants_and_to_auditors() {
        assert!(can_see_request(&person(&["employee"]), true));
        assert!(!can_see_request(&person(&["employee", "manager"]), false));
        assert!(can_see_request(&person(&["auditor"]), false));
    }
}
