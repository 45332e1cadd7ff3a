//! Builds the application: the MongoDB store, its indexes and seed data,
//! the listener, and the whole route table in one block.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::http::Method;
use actix_web::web::{self, ServiceConfig};
use actix_web::{App, FromRequest, Handler, HttpServer, Responder};
use tracing_actix_web::TracingLogger;

use crate::config::Settings;
use crate::routes::departments::{agents, archive, config, create, lookup, read, update};
use crate::routes::{
    assignments, auth, auto_distribution, extract, health, livechat_users, permissions, users,
};
use crate::state::AppState;
use crate::store::Store;

/// One registered endpoint. The table is data so that the OpenAPI test
/// can compare the documented paths with what is actually served.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    register: Box<dyn Fn(&mut ServiceConfig) + Send + Sync>,
}

fn route<F, Args>(method: Method, path: &'static str, handler: F) -> Route
where
    F: Handler<Args> + Clone + Send + Sync + 'static,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    let registered = method.clone();
    Route {
        method,
        path,
        register: Box::new(move |cfg| {
            cfg.route(path, web::method(registered.clone()).to(handler.clone()));
        }),
    }
}

/// Every endpoint Switchboard serves. Static segments come before `{_id}`
/// captures on the same prefix: the first match wins.
#[rustfmt::skip]
pub fn route_table() -> Vec<Route> {
    use Method as M;
    vec![
        route(M::GET,    "/livez", health::livez),
        route(M::GET,    "/readyz", health::readyz),
        route(M::GET,    "/api/info", health::info),
        route(M::POST,   "/api/v1/login", auth::login),
        route(M::POST,   "/api/v1/logout", auth::logout),
        route(M::GET,    "/api/v1/me", auth::me),
        route(M::POST,   "/api/v1/users.create", users::create),
        route(M::POST,   "/api/v1/users.setStatus", users::set_status),
        route(M::GET,    "/api/v1/permissions.listAll", permissions::list_all),
        route(M::POST,   "/api/v1/permissions.update", permissions::update),
        route(M::POST,   "/api/v1/livechat/agent.status", livechat_users::agent_status),
        route(M::GET,    "/api/v1/livechat/config", config::config),
        route(M::GET,    "/api/v1/livechat/department", read::list),
        route(M::POST,   "/api/v1/livechat/department", create::create),
        route(M::GET,    "/api/v1/livechat/department/isDepartmentCreationAvailable", read::creation_available),
        route(M::GET,    "/api/v1/livechat/department.autocomplete", lookup::autocomplete),
        route(M::GET,    "/api/v1/livechat/department.listByIds", lookup::list_by_ids),
        route(M::GET,    "/api/v1/livechat/department/{_id}", read::get),
        route(M::PUT,    "/api/v1/livechat/department/{_id}", update::update),
        route(M::DELETE, "/api/v1/livechat/department/{_id}", update::remove),
        route(M::GET,    "/api/v1/livechat/department/{_id}/agents", agents::list),
        route(M::POST,   "/api/v1/livechat/department/{_id}/agents", agents::save),
        route(M::POST,   "/api/v1/livechat/department/{_id}/archive", archive::archive),
        route(M::POST,   "/api/v1/livechat/department/{_id}/unarchive", archive::unarchive),
        route(M::GET,    "/api/v1/livechat/departments/archived", read::list_archived),
        route(M::GET,    "/api/v1/livechat/agents/{agentId}/departments", agents::of_agent),
        route(M::GET,    "/api/v1/livechat/autoDistributionConfig", auto_distribution::get),
        route(M::PUT,    "/api/v1/livechat/autoDistributionConfig", auto_distribution::put),
        route(M::POST,   "/api/v1/livechat/autoDistributionConfig:enable", auto_distribution::enable),
        route(M::POST,   "/api/v1/livechat/autoDistributionConfig:disable", auto_distribution::disable),
        route(M::GET,    "/api/v1/livechat/users/{type}", livechat_users::list),
        route(M::POST,   "/api/v1/livechat/users/{type}", livechat_users::add),
        route(M::PUT,    "/api/v1/livechat/users/agent/{_id}", livechat_users::update_agent),
        route(M::GET,    "/api/v1/livechat/users/{type}/{_id}", livechat_users::get),
        route(M::DELETE, "/api/v1/livechat/users/{type}/{_id}", livechat_users::remove),
        route(M::GET,    "/api/v1/livechat/agent.next/{token}", assignments::agent_next),
        route(M::GET,    "/api/v1/livechat/assignments", assignments::list),
        route(M::POST,   "/api/v1/livechat/assignments", assignments::create),
        route(M::GET,    "/api/v1/livechat/assignments/{_id}", assignments::get),
        route(M::POST,   "/api/v1/livechat/assignments/{_id}/close", assignments::close),
    ]
}

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Connects to MongoDB, prepares indexes and seed data, binds the
    /// listener (port 0 picks a free port) and builds the server.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let store = Store::connect(&settings).await?;
        prepare_database(&store, &settings).await;
        let listener = TcpListener::bind((settings.bind_ip.as_str(), settings.port))?;
        let port = listener.local_addr()?.port();
        let server = run(listener, store, settings)?;
        Ok(Application { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Creates indexes and seed data. When MongoDB is not reachable yet the
/// service still starts (answering 503 where the database is needed) and
/// keeps trying in the background until it succeeds.
async fn prepare_database(store: &Store, settings: &Settings) {
    async fn attempt(store: &Store, settings: &Settings) -> Result<(), crate::error::Error> {
        store.ensure_indexes().await?;
        store.seed(settings).await
    }
    if let Err(e) = attempt(store, settings).await {
        tracing::warn!(error = %crate::error::error_chain_fmt(&e), "database not ready; retrying in the background");
        let (store, settings) = (store.clone(), settings.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                match attempt(&store, &settings).await {
                    Ok(()) => {
                        tracing::info!("database prepared");
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %crate::error::error_chain_fmt(&e), "database still not ready")
                    }
                }
            }
        });
    }
}

fn run(listener: TcpListener, store: Store, settings: Settings) -> std::io::Result<Server> {
    let workers = settings.http.workers;
    let grace = settings.http.shutdown_grace_seconds;
    let state = web::Data::new(AppState { store, settings });
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(TracingLogger::default())
            .app_data(state.clone())
            .app_data(extract::query_config())
            .app_data(extract::path_config())
            .configure(|cfg| {
                for r in route_table() {
                    (r.register)(cfg);
                }
            })
            .default_service(web::to(extract::not_found))
    })
    .shutdown_timeout(grace)
    .listen(listener)?;
    if workers > 0 {
        server = server.workers(workers);
    }
    Ok(server.run())
}
