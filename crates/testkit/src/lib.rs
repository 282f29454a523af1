//! countersign-testkit: what tests need to run the real parts together (dev-only).
//!
//! - [`TestDb`]: a fresh SQLite file or PostgreSQL database per test, removed on drop.
//! - [`TestServer`]: the real server on 127.0.0.1 port 0 over a [`TestDb`], with a clock the
//!   test can move.
//! - [`TestApi`]: the same server's router without a socket, for handler tests.
//! - [`DesktopSession`]: a private D-Bus session with an unlocked Secret Service (and, when
//!   asked, an Xvfb display) so keyring and desktop tests touch nothing of the machine's.
//! - [`FaultProxy`]: a TCP proxy in front of a server that breaks chosen HTTP requests (lost,
//!   cut, answered but unheard, delivered twice) and can refuse connections, for fault tests.
//! - [`TlsFront`]: HTTPS in front of a server, with a certificate from an authority made for
//!   the test, which a client process trusts through `SSL_CERT_FILE`.
//! - [`NotificationServer`]: owns `org.freedesktop.Notifications` on a test bus, records every
//!   notification and can click its actions.
//! - [`StatusNotifierWatcher`]: owns `org.kde.StatusNotifierWatcher` on a test bus, so an app's
//!   tray icon registers there; reads the icon's properties and menu and presses its entries.
//! - [`cargo_bin`]: builds and locates a workspace binary for tests in other packages.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod bins;
mod bus_service;
mod db;
mod desktop;
mod fault_proxy;
mod notifications;
mod server;
mod tls_front;
mod tray;
mod x11;
mod xdnd;

pub use api::{Answer, TestApi};
pub use bins::{cargo_bin, target_dir};
pub use db::{TestDb, pg_admin_url};
pub use desktop::DesktopSession;
pub use fault_proxy::{Exchange, Fault, FaultProxy, Observed};
pub use notifications::{Call, Hints, NotificationServer, Notified};
pub use server::{PausedServer, TestServer};
pub use tls_front::TlsFront;
pub use tray::{ItemProperties, MenuEntry, RegisteredItem, StatusNotifierWatcher, Tray};
pub use x11::{Key, TopLevel};
pub use xdnd::DropOutcome;

/// Tuesday 1 December 2026, 09:30 in Beijing: a working day, the moment most tests start at
/// (leave and SLAs are counted on the working-day calendar from here).
pub fn tuesday_morning() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-12-01T09:30:00+08:00")
        .expect("a valid time")
        .with_timezone(&chrono::Utc)
}

/// Expands each named `async fn(Backend)` test body into a module with a `sqlite` and a
/// `postgres` test, so every storage-touching test runs on both databases.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name(countersign_server::store::Backend::Sqlite).await;
                }

                #[tokio::test]
                async fn postgres() {
                    super::$name(countersign_server::store::Backend::Postgres).await;
                }
            }
        )*
    };
}
