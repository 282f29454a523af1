//! countersign-domain: the business rules of Countersign as pure functions over plain data.
//!
//! It owns form schemas and their validation, workflow definitions and the approval engine,
//! the working-day calendar and the standard template library. Nothing here does I/O, reads
//! the clock or is async: the server and the client call the same code, so a form is judged
//! the same way on both sides (requirement B4), and tests control time by passing it in.

pub mod calendar;
pub mod condition;
pub mod engine;
pub mod form;
pub mod messages;
pub mod org;
pub mod workflow;
