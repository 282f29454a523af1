//! What the figures run against: the real server in this process on a fresh database (SQLite
//! file or PostgreSQL), the demo organisation, and clients made the way the apps make them.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use countersign_api::SignInRequest;
use countersign_client::{
    ApiClient, Client, ClientOptions, ProfileDir, ServerUrl, SessionOnlyCredentials,
};
use countersign_server::seed::DEMO_PASSWORD;
use countersign_server::store::{Backend, RequestRecord};
use countersign_testkit::{TestDb, TestServer};
use uuid::Uuid;

use crate::load;

pub struct World {
    pub server: TestServer,
    /// 沈悦's leave request to 蒋涛 as the real submit path wrote it: what [`World::load`] clones.
    template: RequestRecord,
}

impl World {
    pub async fn start(backend: Backend) -> anyhow::Result<Self> {
        let server = TestServer::start(TestDb::of(backend).await).await;
        server.seed_demo().await;
        countersign_server::seed::seed_demo_requests(&server.state)
            .await
            .context("seed the demo requests")?;
        let store = server.state.store.clone();
        let shen = store
            .find_person_by_username("shen.yue")
            .await?
            .context("shen.yue is in the demo organisation")?;
        let template = store
            .requests_started_by(shen.id, None, 1)
            .await?
            .pop()
            .context("the demo leave request of shen.yue")?;
        Ok(World { server, template })
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn backend(&self) -> Backend {
        self.server.db().backend()
    }

    /// Adds `n` leave requests of 沈悦 waiting for 蒋涛 (see [`load`]); their ids.
    pub async fn load(&self, n: usize, seed: u64) -> anyhow::Result<Vec<Uuid>> {
        let requests = load::clones(&self.template, n, seed);
        load::write(self.server.db().url(), &requests, &[]).await?;
        Ok(requests.iter().map(|r| r.id).collect())
    }
}

/// A client core as the apps open one, its sign-in kept in memory only.
pub fn client(dir: &Path) -> anyhow::Result<Arc<Client>> {
    Ok(Arc::new(Client::open(
        ClientOptions {
            profile_dir: ProfileDir::new(dir),
            device_name: "bench".into(),
            os_locale: Some("en-US".into()),
            app_version: env!("CARGO_PKG_VERSION").into(),
            default_server: None,
        },
        Arc::new(SessionOnlyCredentials::default()),
    )?))
}

pub async fn signed_in(url: &str, dir: &Path, username: &str) -> anyhow::Result<Arc<Client>> {
    let c = client(dir)?;
    c.sign_in(url, username, DEMO_PASSWORD).await?;
    Ok(c)
}

/// A raw API session (what a client sends, without a cache): the API and an access token.
pub async fn api_session(url: &str, username: &str) -> anyhow::Result<(ApiClient, String)> {
    let api = ApiClient::new(ServerUrl::parse(url)?)?;
    let signed = api
        .sign_in(&SignInRequest {
            username: username.into(),
            password: DEMO_PASSWORD.into(),
            device_name: "bench load".into(),
        })
        .await?;
    Ok((api, signed.tokens.access_token))
}
