//! countersign-domain: the business rules of Countersign as pure functions over plain data.
//!
//! It owns form schemas and their validation, workflow definitions and the approval engine,
//! the working-day calendar and the standard template library. Nothing here does I/O, reads
//! the clock or is async: the server and the client call the same code, so a form is judged
//! the same way on both sides (requirement B4), and tests control time by passing it in.
//!
//! # Where to start
//!
//! | need | call |
//! | --- | --- |
//! | check a draft while typing (errors + running totals) | [`form::evaluate`] |
//! | accept a submission | [`form::validate`] (or let [`engine::Engine::apply`] do it on `submit`); the [`form::ValidForm`] it returns borrows its texts from the JSON, [`form::ValidForm::into_owned`] keeps it longer |
//! | show the route a draft would take | [`engine::Engine::preview_route`] |
//! | act on a request | [`engine::Engine::apply`] with a [`engine::RequestState`] and an [`engine::Action`] |
//! | explain a refusal | [`engine::Refusal::message_key`] → [`messages::MessageKey::render`] |
//! | SLA due times, overdue checks, leave days | [`calendar::WorkingCalendar`] |
//! | the template gallery | [`templates::library`] |
//! | check a meeting plan, name what an update changed | [`meetings::check_plan`], [`meetings::what_changed`] |
//! | import or export a meeting invitation (.ics) | [`ics::read_invitations`], [`ics::write_invitation`] |
//! | may a notification about a request offer Approve | [`templates::Template::may_approve_from_notification`] |
//!
//! # Modules
//!
//! - [`form`]: schemas, values, validation with every error at once, computed fields.
//! - [`condition`]: the small condition language shared by form rules and workflow branches.
//! - [`workflow`]: definitions (approval / cc / condition steps), their checks, and routing.
//! - [`org`]: the organisation snapshot routing reads (managers, heads, roles, delegations).
//! - [`engine`]: request state, actions, transitions and typed refusals.
//! - [`calendar`]: working hours, weekends, holidays and make-up days (2026 CN shipped).
//! - [`templates`]: the versioned template library shipped as data.
//! - [`meetings`]: meeting plans, their rules, answers, and what a change changed.
//! - [`ics`]: calendar files (RFC 5545): meeting invitations read from and written for other
//!   calendar programs, with Windows, IANA and in-file time zones.
//! - [`messages`]: the zh-CN / English message catalogue for every key.
//!
//! # The template library (version 1)
//!
//! Every template names roles, not people. "Fallback" means the step goes to the
//! `workflow_admin` role when its rule finds nobody; "skipped" means the step is left out and
//! the skip recorded. SLAs are in working hours on the calendar.
//!
//! | template | form | routing |
//! | --- | --- | --- |
//! | `leave` 请假 | leave type; period (date range, half days, ≤ 180 days); reason; cover (person); certificate (files). Computed `days` = working days of the period. Sick leave over 2 days requires a certificate. | direct manager (8 h, fallback) → if `days` > 3: department head (8 h, skipped if none) → CC `hr` |
//! | `reimbursement` 费用报销 | purpose; `lines` table (1–500 rows: date, category, description, amount in CNY ≥ 0.01, invoice files ≥ 1 per line); notes. Computed `total` = Σ line amounts. | direct manager (16 h) → if `total` > 5,000: `finance_director` (16 h) → `finance`, any one (16 h; returns go to the initiator) |
//! | `purchase` 采购申请 | subject; budget code (`IT-2026-001` form); `items` table (name, specification, quantity > 0 with 2 decimals, unit, unit price in CNY); needed by; supplier; reason; quotations. Computed `total` = Σ quantity × unit price, rounded per line to the cent. | direct manager (16 h) → if `total` > 10,000: department head → if > 50,000: `finance_director` → if > 200,000: `general_manager` (24 h) → `procurement`, any one (24 h) |
//! | `business_trip` 出差申请 | destination; dates (≤ 90 days); transport (multi-select, ≥ 1); purpose; estimated cost; cash advance; travelling with (person). Computed `working_days` away. | direct manager (8 h) → if estimated cost > 5,000: department head (skipped if none) → CC `hr` |
//! | `overtime` 加班申请 | start and end (datetimes, end not before start); hours (0.5–24, one decimal); compensation (time off / pay); reason. | direct manager (8 h) → CC `hr` |
//! | `account_application` 账号申请 (S1) | employee name; employee number (`[A-Z0-9]{4,12}`); department; position; start date; systems (multi-select, ≥ 1); permissions needed. | head of the employee's department (8 h; the initiator's manager if the department has none) → `it_admin`, any one, opens the account (8 h) |
//! | `process_change` 流程设计/变更 (S6) | process name; change type (new / change / retire); business department; description; expected benefit; design documents. | head of the business department **and** `it_head`, all must approve (会签, 24 h) → CC `workflow_admin` to publish the new version |
//!
//! In every template the initiator's own approval is recorded automatically when a rule
//! resolves to them, and a person who approved the step just before is not asked again.

pub mod calendar;
pub mod condition;
pub mod engine;
pub mod files;
pub mod form;
pub mod ics;
pub mod meetings;
pub mod messages;
pub mod org;
pub mod templates;
pub mod workflow;
