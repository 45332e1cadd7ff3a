//! Builds the application: the MongoDB store, its indexes and seed data,
//! the listener, and the whole route table in one block.

use std::net::TcpListener;

use actix_cors::Cors;
use actix_web::dev::{ResourceDef, Server};
use actix_web::http::Method;
use actix_web::middleware::{Condition, from_fn};
use actix_web::web::{self, ServiceConfig};
use actix_web::{App, FromRequest, Handler, HttpServer, Responder};
use std::time::Duration;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::access::Access;
use crate::config::Settings;
use crate::distribution::Distribution;
use crate::error::Error;
use crate::limits::{self, Limits};
use crate::routes::departments::{agents, archive, config, create, lookup, read, update};
use crate::routes::{
    assignments, auth, auto_distribution, extract, health, inquiries, livechat_users, ops,
    permissions, queue, users,
};
use crate::state::AppState;
use crate::store::Store;
use crate::telemetry::{self, metrics};

/// One registered endpoint. The table is data so that the OpenAPI document
/// is built from exactly what is served (see [`crate::openapi`]).
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    /// `module.handler`: unique, so it serves as the operation id.
    pub handler: &'static str,
    register: Box<dyn Fn(&mut ServiceConfig) + Send + Sync>,
    /// Adds the handler's `#[utoipa::path]` operation and the schemas it
    /// refers to.
    pub(crate) document: fn(&mut crate::openapi::Collected),
}

impl Route {
    /// Prefer the [`route!`] macro, which finds `D` from the handler's name.
    pub fn new<F, Args, D>(
        method: Method,
        path: &'static str,
        handler: F,
        name: &'static str,
    ) -> Route
    where
        F: Handler<Args> + Clone + Send + Sync + 'static,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
        D: utoipa::Path + utoipa::__dev::SchemaReferences,
    {
        let registered = method.clone();
        Route {
            method,
            path,
            handler: name,
            register: Box::new(move |cfg| {
                // The time bound wraps each route rather than the app: only
                // after routing may the request be shared with the timer.
                let route = web::method(registered.clone())
                    .to(handler.clone())
                    .wrap(from_fn(limits::limit_time));
                cfg.route(path, route);
            }),
            document: crate::openapi::collect::<D>,
        }
    }
}

/// `route!(GET, "/path/{_id}", module::handler)`: registers the handler and
/// the OpenAPI operation its `#[utoipa::path]` generated (`module::__path_handler`),
/// so the served routes and the documented ones cannot drift apart.
macro_rules! route {
    ($method:ident, $path:literal, $module:ident :: $handler:ident) => {
        pastey::paste! {
            Route::new::<_, _, $module::[<__path_ $handler>]>(
                Method::$method,
                $path,
                $module::$handler,
                concat!(stringify!($module), ".", stringify!($handler)),
            )
        }
    };
}

/// Every endpoint Switchboard serves. Static segments come before `{_id}`
/// captures on the same prefix: the first match wins.
#[rustfmt::skip]
pub fn route_table() -> Vec<Route> {
    vec![
        route!(GET, "/livez", health::livez),
        route!(GET, "/readyz", health::readyz),
        route!(GET, "/metrics", ops::metrics),
        route!(GET, "/api/openapi.json", ops::openapi_json),
        route!(GET, "/api/info", health::info),
        route!(POST, "/api/v1/login", auth::login),
        route!(POST, "/api/v1/logout", auth::logout),
        route!(GET, "/api/v1/me", auth::me),
        route!(POST, "/api/v1/users.create", users::create),
        route!(POST, "/api/v1/users.setStatus", users::set_status),
        route!(GET, "/api/v1/permissions.listAll", permissions::list_all),
        route!(POST, "/api/v1/permissions.update", permissions::update),
        route!(POST, "/api/v1/livechat/agent.status", livechat_users::agent_status),
        route!(GET, "/api/v1/livechat/config", config::config),
        route!(GET, "/api/v1/livechat/department", read::list),
        route!(POST, "/api/v1/livechat/department", create::create),
        route!(GET, "/api/v1/livechat/department/isDepartmentCreationAvailable", read::creation_available),
        route!(GET, "/api/v1/livechat/department.autocomplete", lookup::autocomplete),
        route!(GET, "/api/v1/livechat/department.listByIds", lookup::list_by_ids),
        route!(GET, "/api/v1/livechat/department/{_id}", read::get),
        route!(PUT, "/api/v1/livechat/department/{_id}", update::update),
        route!(DELETE, "/api/v1/livechat/department/{_id}", update::remove),
        route!(GET, "/api/v1/livechat/department/{_id}/agents", agents::list),
        route!(POST, "/api/v1/livechat/department/{_id}/agents", agents::save),
        route!(POST, "/api/v1/livechat/department/{_id}/archive", archive::archive),
        route!(POST, "/api/v1/livechat/department/{_id}/unarchive", archive::unarchive),
        route!(GET, "/api/v1/livechat/departments/archived", read::list_archived),
        route!(GET, "/api/v1/livechat/agents/{agentId}/departments", agents::of_agent),
        route!(GET, "/api/v1/livechat/autoDistributionConfig", auto_distribution::get),
        route!(PUT, "/api/v1/livechat/autoDistributionConfig", auto_distribution::put),
        route!(POST, "/api/v1/livechat/autoDistributionConfig:enable", auto_distribution::enable),
        route!(POST, "/api/v1/livechat/autoDistributionConfig:disable", auto_distribution::disable),
        route!(GET, "/api/v1/livechat/users/{type}", livechat_users::list),
        route!(POST, "/api/v1/livechat/users/{type}", livechat_users::add),
        route!(PUT, "/api/v1/livechat/users/agent/{_id}", livechat_users::update_agent),
        route!(GET, "/api/v1/livechat/users/{type}/{_id}", livechat_users::get),
        route!(DELETE, "/api/v1/livechat/users/{type}/{_id}", livechat_users::remove),
        route!(GET, "/api/v1/livechat/agent.next/{token}", assignments::agent_next),
        route!(GET, "/api/v1/livechat/assignments", assignments::list),
        route!(POST, "/api/v1/livechat/assignments", assignments::create),
        route!(GET, "/api/v1/livechat/assignments/{_id}", assignments::get),
        route!(POST, "/api/v1/livechat/assignments/{_id}/close", assignments::close),
        route!(POST, "/api/v1/livechat/assignments/{_id}/accept", assignments::accept),
        route!(POST, "/api/v1/livechat/assignments/{_id}/decline", assignments::decline),
        route!(GET, "/api/v1/livechat/queue", queue::list),
        route!(GET, "/api/v1/livechat/inquiries.list", inquiries::list),
        route!(GET, "/api/v1/livechat/inquiries.queuedForUser", inquiries::queued_for_user),
        route!(GET, "/api/v1/livechat/inquiries.getOne", inquiries::get_one),
        route!(POST, "/api/v1/livechat/inquiries.take", inquiries::take),
    ]
}

pub struct Application {
    port: u16,
    server: Server,
    store: Store,
    /// The engine's background work: the queue sweep and the repair.
    background: tokio::task::JoinHandle<()>,
}

impl Application {
    /// Connects to MongoDB, prepares indexes and seed data, binds the
    /// listener (port 0 picks a free port) and builds the server.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let store = Store::connect(&settings).await?;
        prepare_database(&store, &settings).await;
        let listener = TcpListener::bind((settings.bind_ip.as_str(), settings.port))?;
        let port = listener.local_addr()?.port();
        let distribution = Distribution::new(store.clone(), settings.clone());
        let background = distribution.spawn_background();
        let server = run(listener, store.clone(), distribution, settings)?;
        Ok(Application {
            port,
            server,
            store,
            background,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or Ctrl-C, after which the server stops
    /// accepting and lets in-flight requests finish within
    /// `http.shutdown_grace_seconds`; then the MongoDB client is closed.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.background.abort();
        tracing::info!("stopped serving; closing the MongoDB client");
        // Bounded, so a wedged database connection cannot keep the process
        // alive past its orchestrator's patience.
        let closing = self.store.client().clone().shutdown();
        if tokio::time::timeout(Duration::from_secs(5), closing)
            .await
            .is_err()
        {
            tracing::warn!("the MongoDB client did not close within 5 seconds");
        }
        served
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
    // Bounded like a request, so a database that accepts connections but
    // never answers cannot hold the listener back.
    let bound = Duration::from_millis(settings.http.request_timeout_ms.max(1));
    let first = tokio::time::timeout(bound, attempt(store, settings))
        .await
        .unwrap_or_else(|_| {
            Err(crate::error::Error::Unavailable(anyhow::anyhow!(
                "no answer within {} ms",
                bound.as_millis()
            )))
        });
    if let Err(e) = first {
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

fn run(
    listener: TcpListener,
    store: Store,
    distribution: Distribution,
    settings: Settings,
) -> std::io::Result<Server> {
    let workers = settings.http.workers;
    let grace = settings.http.shutdown_grace_seconds;
    let cors_origins = settings.http.cors_origins.clone();
    let limits = Limits::new(&settings.rate_limit);
    let state = web::Data::new(AppState {
        access: Access::new(store.clone()),
        store,
        settings,
        limits,
        distribution,
    });
    // Installed here so /metrics lists the metric descriptions from the start.
    metrics::handle();
    let mut server = HttpServer::new(move || {
        // The last `wrap` runs first: every answer, including 413, 503 and
        // CORS refusals, gets a request id, a log line and metrics.
        App::new()
            .wrap(from_fn(limits::limit_body))
            .wrap(Condition::new(
                !cors_origins.is_empty(),
                cors(&cors_origins),
            ))
            .wrap(from_fn(telemetry::observe))
            .app_data(state.clone())
            .app_data(extract::query_config())
            .app_data(extract::path_config())
            .configure(|cfg| {
                for r in route_table() {
                    (r.register)(cfg);
                }
            })
            // The browsable reference is not part of the API it documents.
            .route("/api/docs", web::get().to(ops::docs_redirect))
            .service(
                SwaggerUi::new("/api/docs/{_:.*}")
                    .config(utoipa_swagger_ui::Config::from("/api/openapi.json")),
            )
            .default_service(web::to(unrouted))
    })
    .shutdown_timeout(grace)
    .listen(listener)?;
    if workers > 0 {
        server = server.workers(workers);
    }
    Ok(server.run())
}

/// Any request no route takes: 405 with `Allow` when the path is served
/// with other methods, else 404.
async fn unrouted(req: actix_web::HttpRequest) -> Result<actix_web::HttpResponse, Error> {
    static SERVED: std::sync::OnceLock<Vec<(ResourceDef, Method)>> = std::sync::OnceLock::new();
    let served = SERVED.get_or_init(|| {
        route_table()
            .into_iter()
            .map(|r| (ResourceDef::new(r.path), r.method))
            .collect()
    });
    let mut allowed: Vec<String> = served
        .iter()
        .filter(|(path, _)| path.is_match(req.path()))
        .map(|(_, method)| method.to_string())
        .collect();
    if allowed.is_empty() {
        return extract::not_found(req).await;
    }
    allowed.sort();
    allowed.dedup();
    Err(Error::MethodNotAllowed { allowed })
}

/// CORS for the livechat widget: the configured origins (`*` for any) may
/// call the API from a browser with the auth headers.
fn cors(origins: &[String]) -> Cors {
    let cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "DELETE", "OPTIONS"])
        .allow_any_header()
        .expose_headers([telemetry::REQUEST_ID])
        .max_age(3600);
    if origins.iter().any(|o| o == "*") {
        return cors.allow_any_origin();
    }
    origins
        .iter()
        .fold(cors, |cors, origin| cors.allowed_origin(origin))
}
