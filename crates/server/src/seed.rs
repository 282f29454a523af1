//! `seed-demo`: a small demo organisation so that a fresh install has someone to sign in as.
//! Idempotent: a second run finds the organisation and only prints the credentials again.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::people::{AddPersonError, NewPerson, add_person};
use crate::store::{AuditEntry, Department, Room, Store, StoreError};

/// Every demo account signs in with this password. It is printed by `seed-demo` and in the
/// README: the demo organisation is for trying the product, never for real data.
pub const DEMO_PASSWORD: &str = "countersign-demo";

const SEEDED_KEY: &str = "demo_org_seeded_at";

/// (code, name, parent code)
const DEPARTMENTS: [(&str, &str, Option<&str>); 6] = [
    ("GM", "总经办 General Management", None),
    ("FIN", "财务部 Finance", Some("GM")),
    ("HR", "人力资源部 Human Resources", Some("GM")),
    ("IT", "信息技术部 IT", Some("GM")),
    ("SALES", "销售部 Sales", Some("GM")),
    ("RD", "研发部 R&D", Some("GM")),
];

/// (user name, display name, department, manager, roles, heads department)
type DemoPerson = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static [&'static str],
    bool,
);

/// Routing positions of the demo people, so that every step of the template library finds
/// someone: the finance director, the general manager, IT's head, procurement and the
/// workflow administrator.
const POSITIONS: [(&str, &[&str]); 5] = [
    ("zhao.min", &["general_manager"]),
    ("qian.li", &["finance_director"]),
    ("wu.gang", &["it_head"]),
    ("wei.dong", &["workflow_admin"]),
    ("you.na", &["procurement"]),
];

/// Managers come before the people who report to them.
const PEOPLE: [DemoPerson; 20] = [
    (
        "zhao.min",
        "赵敏",
        "GM",
        None,
        &["employee", "manager"],
        true,
    ),
    (
        "qian.li",
        "钱立",
        "FIN",
        Some("zhao.min"),
        &["employee", "manager", "finance"],
        true,
    ),
    (
        "li.wei",
        "李伟",
        "HR",
        Some("zhao.min"),
        &["employee", "manager", "hr"],
        true,
    ),
    (
        "wu.gang",
        "吴刚",
        "IT",
        Some("zhao.min"),
        &["employee", "manager", "it_admin", "admin"],
        true,
    ),
    (
        "wang.fang",
        "王芳",
        "SALES",
        Some("zhao.min"),
        &["employee", "manager"],
        true,
    ),
    (
        "wei.dong",
        "卫东",
        "RD",
        Some("zhao.min"),
        &["employee", "manager", "process_admin"],
        true,
    ),
    (
        "zhu.lin",
        "朱琳",
        "GM",
        Some("zhao.min"),
        &["employee", "auditor"],
        false,
    ),
    (
        "you.na",
        "尤娜",
        "GM",
        Some("zhao.min"),
        &["employee"],
        false,
    ),
    (
        "sun.hui",
        "孙慧",
        "FIN",
        Some("qian.li"),
        &["employee", "finance"],
        false,
    ),
    (
        "he.ping",
        "何平",
        "FIN",
        Some("qian.li"),
        &["employee", "finance"],
        false,
    ),
    (
        "zhou.jie",
        "周杰",
        "HR",
        Some("li.wei"),
        &["employee", "hr"],
        false,
    ),
    (
        "zheng.yu",
        "郑宇",
        "IT",
        Some("wu.gang"),
        &["employee", "it_admin"],
        false,
    ),
    (
        "qin.hao",
        "秦浩",
        "IT",
        Some("wu.gang"),
        &["employee", "support_agent"],
        false,
    ),
    (
        "feng.lei",
        "冯磊",
        "SALES",
        Some("wang.fang"),
        &["employee"],
        false,
    ),
    (
        "chen.jing",
        "陈静",
        "SALES",
        Some("wang.fang"),
        &["employee"],
        false,
    ),
    (
        "chu.yun",
        "褚云",
        "SALES",
        Some("wang.fang"),
        &["employee"],
        false,
    ),
    (
        "jiang.tao",
        "蒋涛",
        "RD",
        Some("wei.dong"),
        &["employee", "manager"],
        false,
    ),
    (
        "shen.yue",
        "沈月",
        "RD",
        Some("jiang.tao"),
        &["employee"],
        false,
    ),
    (
        "han.bing",
        "韩冰",
        "RD",
        Some("jiang.tao"),
        &["employee"],
        false,
    ),
    (
        "yang.fan",
        "杨帆",
        "RD",
        Some("jiang.tao"),
        &["employee"],
        false,
    ),
];

/// The demo organisation's bookable rooms: (name, seats).
pub const DEMO_ROOMS: [(&str, i32); 3] =
    [("3F 会议室 A", 12), ("3F 会议室 B", 6), ("5F 大会议室", 40)];

#[derive(Debug)]
pub struct SeedReport {
    /// False when the organisation was already there.
    pub created: bool,
    /// (user name, display name, department code, roles)
    pub accounts: Vec<(String, String, String, Vec<String>)>,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(
        "this database already holds {0} people who are not the demo organisation; \
         seed-demo only seeds an empty database"
    )]
    NotEmpty(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not add a demo person: {0}")]
    Person(#[from] AddPersonError),
    #[error("could not submit a demo request: {0}")]
    Request(String),
}

pub async fn seed_demo(store: &dyn Store, now: DateTime<Utc>) -> Result<SeedReport, SeedError> {
    let accounts = PEOPLE
        .iter()
        .map(|(u, d, dept, _, roles, _)| {
            (
                (*u).to_owned(),
                (*d).to_owned(),
                (*dept).to_owned(),
                roles.iter().map(|r| (*r).to_owned()).collect(),
            )
        })
        .collect();
    if store.meta_get(SEEDED_KEY).await?.is_some() {
        return Ok(SeedReport {
            created: false,
            accounts,
        });
    }
    // A run that was interrupted resumes: what exists is kept, the rest is added. Any
    // other person in the database means this is a real organisation: leave it alone.
    let mut demo_present = 0;
    for (username, ..) in PEOPLE {
        if store.find_person_by_username(username).await?.is_some() {
            demo_present += 1;
        }
    }
    let existing = store.count_people().await?;
    if existing > demo_present {
        return Err(SeedError::NotEmpty(existing - demo_present));
    }
    for (code, name, parent) in DEPARTMENTS {
        if store.find_department_by_code(code).await?.is_some() {
            continue;
        }
        let parent_id = match parent {
            Some(p) => store.find_department_by_code(p).await?.map(|d| d.id),
            None => None,
        };
        store
            .insert_department(
                &Department {
                    id: Uuid::now_v7(),
                    code: code.into(),
                    name: name.into(),
                    parent_id,
                    head_id: None,
                    created_at: now,
                    version: 1,
                },
                &AuditEntry::system(now, "department.create", format!("department:{code}")),
            )
            .await?;
    }
    for (username, display_name, dept, manager, roles, heads) in PEOPLE {
        let person = match store.find_person_by_username(username).await? {
            Some(existing) => existing,
            None => {
                add_person(
                    store,
                    NewPerson {
                        username: username.into(),
                        display_name: display_name.into(),
                        email: Some(format!("{username}@demo.countersign.invalid")),
                        department_code: Some(dept.into()),
                        manager_username: manager.map(Into::into),
                        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
                        positions: POSITIONS
                            .iter()
                            .find(|(u, _)| *u == username)
                            .map(|(_, p)| p.iter().map(|p| (*p).to_owned()).collect())
                            .unwrap_or_default(),
                    },
                    DEMO_PASSWORD.to_owned(),
                    now,
                )
                .await?
            }
        };
        if heads && let Some(d) = store.find_department_by_code(dept).await? {
            let audit = AuditEntry::system(now, "department.head", format!("department:{dept}"));
            store.set_department_head(d.id, person.id, &audit).await?;
        }
    }
    if store.list_rooms().await?.is_empty() {
        for (name, capacity) in DEMO_ROOMS {
            let room = Room {
                id: Uuid::now_v7(),
                name: name.into(),
                capacity: Some(capacity),
                active: true,
            };
            let audit = AuditEntry::system(now, "room.create", format!("room:{name}"));
            store.insert_room(&room, &audit).await?;
        }
    }
    store.meta_set(SEEDED_KEY, &now.to_rfc3339()).await?;
    Ok(SeedReport {
        created: true,
        accounts,
    })
}

/// (initiator, template, title, form as JSON with `{start}`/`{end}` for a period a week
/// ahead): what waits in the demo managers' inboxes, so that the app has something to show
/// on its first start. 蒋涛 (jiang.tao) gets two, 李伟 (li.wei) and 钱立 (qian.li) one each.
const DEMO_REQUESTS: [(&str, &str, &str, &str); 4] = [
    (
        "shen.yue",
        "leave",
        "年假：回老家探亲",
        r#"{"leave_type": "annual", "period": {"start": "{start}", "end": "{end}"}, "reason": "回老家探望父母"}"#,
    ),
    (
        "han.bing",
        "business_trip",
        "上海客户拜访",
        r#"{"destination": "上海", "period": {"start": "{start}", "end": "{end}"}, "transport": ["train"], "purpose": "拜访华东区客户，讨论明年续约", "estimated_cost": {"amount": "3800.00", "currency": "CNY"}}"#,
    ),
    (
        "zhou.jie",
        "leave",
        "Annual leave: moving house",
        r#"{"leave_type": "annual", "period": {"start": "{start}", "end": "{start}"}, "reason": "Moving to a new flat"}"#,
    ),
    (
        "sun.hui",
        "business_trip",
        "深圳审计",
        r#"{"destination": "深圳", "period": {"start": "{start}", "end": "{end}"}, "transport": ["plane"], "purpose": "子公司年度审计", "estimated_cost": {"amount": "12600.00", "currency": "CNY"}}"#,
    ),
];

/// Submits [`DEMO_REQUESTS`] through the same path as the app (each initiator signs in, the
/// request is submitted and audited, the session is ended again). Run once, right after the
/// organisation is created: a second `seed-demo` adds nothing.
pub async fn seed_demo_requests(state: &crate::AppState) -> Result<usize, SeedError> {
    let today = state.clock.now().date_naive();
    let start = (today + chrono::Duration::days(7)).to_string();
    let end = (today + chrono::Duration::days(8)).to_string();
    let origin = crate::auth::Origin {
        source: Some("seed-demo".into()),
        device: Some("seed-demo".into()),
    };
    let mut submitted = 0;
    for (username, template, title, form) in DEMO_REQUESTS {
        let form = form.replace("{start}", &start).replace("{end}", &end);
        let form: serde_json::Value =
            serde_json::from_str(&form).map_err(|e| SeedError::Request(e.to_string()))?;
        let signed_in = state
            .sign_in(
                countersign_api::SignInRequest {
                    username: username.into(),
                    password: DEMO_PASSWORD.into(),
                    device_name: "seed-demo".into(),
                },
                &origin,
            )
            .await
            .map_err(|e| SeedError::Request(format!("{username} cannot sign in: {e}")))?;
        let caller = state
            .authenticate(Some(&signed_in.tokens.access_token))
            .await
            .map_err(|e| SeedError::Request(e.to_string()))?;
        state
            .submit_request(
                &caller,
                countersign_api::requests::SubmitRequest {
                    id: None,
                    template_id: template.into(),
                    template_version: None,
                    title: Some(title.into()),
                    form,
                },
                &origin,
                None,
            )
            .await
            .map_err(|e| SeedError::Request(format!("{username}'s {template}: {e}")))?;
        state
            .revoke_own_session(&caller, caller.session.id, &origin)
            .await
            .map_err(|e| SeedError::Request(e.to_string()))?;
        submitted += 1;
    }
    Ok(submitted)
}
