//! The real server, in-process, on a loopback port chosen by the OS.

use std::net::SocketAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use countersign_server::AppState;
use countersign_server::clock::{Clock, ManualClock, SystemClock};
use countersign_server::people::{NewPerson, add_person};
use countersign_server::settings::Settings;
use countersign_server::store::{self, Person};
use tokio::sync::oneshot;

use crate::TestDb;

pub struct TestServer {
    pub addr: SocketAddr,
    pub state: AppState,
    /// Set when started with [`TestServer::start_at`]: the test moves time with it.
    pub clock: Option<Arc<ManualClock>>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    // Declared last: dropped after the server has stopped using it. Shared with replicas:
    // the database goes when the last of them is dropped.
    db: Arc<TestDb>,
}

impl TestServer {
    /// Starts the server over `db` with the wall clock and default settings.
    pub async fn start(db: TestDb) -> Self {
        Self::launch(
            Arc::new(db),
            Arc::new(SystemClock),
            None,
            Settings::default(),
        )
        .await
    }

    /// Starts the server with a manual clock set to `now`.
    pub async fn start_at(db: TestDb, now: DateTime<Utc>) -> Self {
        Self::start_at_with(db, now, Settings::default()).await
    }

    /// Starts the server with the given settings (bind and port are overridden).
    pub async fn start_with(db: TestDb, settings: Settings) -> Self {
        Self::launch(Arc::new(db), Arc::new(SystemClock), None, settings).await
    }

    /// Starts the server with a manual clock set to `now` and the given settings.
    pub async fn start_at_with(db: TestDb, now: DateTime<Utc>, settings: Settings) -> Self {
        let clock = Arc::new(ManualClock::new(now));
        Self::launch(Arc::new(db), clock.clone(), Some(clock), settings).await
    }

    /// Starts another replica over this server's database (on PostgreSQL, what several
    /// `serve` processes behind a load balancer are), with the same clock and settings.
    pub async fn replica(&self) -> Self {
        Self::launch(
            self.db.clone(),
            self.state.clock.clone(),
            self.clock.clone(),
            (*self.state.settings).clone(),
        )
        .await
    }

    /// Stops this server, keeping what it needs to start again on the same port, database,
    /// clock and settings ([`PausedServer::resume`]): an outage its clients must ride out.
    pub async fn pause(mut self) -> PausedServer {
        let paused = PausedServer {
            addr: self.addr,
            db: self.db.clone(),
            clock: self.state.clock.clone(),
            manual: self.clock.clone(),
            settings: (*self.state.settings).clone(),
        };
        self.shutdown_and_wait().await;
        paused
    }

    async fn launch(
        db: Arc<TestDb>,
        clock: Arc<dyn Clock>,
        manual: Option<Arc<ManualClock>>,
        settings: Settings,
    ) -> Self {
        let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
        Self::launch_on(db, clock, manual, settings, any_port).await
    }

    async fn launch_on(
        db: Arc<TestDb>,
        clock: Arc<dyn Clock>,
        manual: Option<Arc<ManualClock>>,
        settings: Settings,
        addr: SocketAddr,
    ) -> Self {
        let store = store::open(db.url()).await.expect("open the test database");
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let state = AppState::new(store, clock, settings).expect("server state");
        state.prepare().await.expect("prepare the test database");
        let (tx, rx) = oneshot::channel::<()>();
        let serving = state.clone();
        let task = tokio::spawn(async move {
            let _ = countersign_server::serve(listener, serving, async {
                let _ = rx.await;
            })
            .await;
        });
        Self {
            addr,
            state,
            clock: manual,
            shutdown: Some(tx),
            task: Some(task),
            db,
        }
    }

    /// The database this server (and its replicas) serve from.
    pub fn db(&self) -> &TestDb {
        &self.db
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Seeds the demo organisation (20 people, password `countersign-demo`) at the server's
    /// current time.
    pub async fn seed_demo(&self) {
        countersign_server::seed::seed_demo(self.state.store.as_ref(), self.state.clock.now())
            .await
            .expect("seed the demo organisation");
    }

    /// Adds an active person who can sign in with `password`.
    pub async fn add_person(&self, username: &str, password: &str, roles: &[&str]) -> Person {
        add_person(
            self.state.store.as_ref(),
            NewPerson {
                username: username.into(),
                display_name: format!("Test {username}"),
                email: None,
                department_code: None,
                manager_username: None,
                roles: roles.iter().map(|r| (*r).to_owned()).collect(),
                positions: vec![],
            },
            password.to_owned(),
            self.state.clock.now(),
        )
        .await
        .expect("add a test person")
    }

    /// The live sessions of the person signed in as `username`, straight from the store.
    pub async fn sessions_of(&self, username: &str) -> Vec<store::SessionRecord> {
        let store = &self.state.store;
        let person = store
            .find_person_by_username(username)
            .await
            .expect("read the test person")
            .unwrap_or_else(|| panic!("no person '{username}' on the test server"));
        store
            .list_sessions(person.id)
            .await
            .expect("read the person's sessions")
    }

    /// Stops serving and waits until the port is closed.
    pub async fn stop(mut self) {
        self.shutdown_and_wait().await;
    }

    async fn shutdown_and_wait(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.state.store.close().await;
    }
}

/// A [`TestServer`] that was stopped and can start again where it was.
pub struct PausedServer {
    addr: SocketAddr,
    db: Arc<TestDb>,
    clock: Arc<dyn Clock>,
    manual: Option<Arc<ManualClock>>,
    settings: Settings,
}

impl PausedServer {
    pub async fn resume(self) -> TestServer {
        TestServer::launch_on(self.db, self.clock, self.manual, self.settings, self.addr).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
