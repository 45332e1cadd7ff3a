//! Builds the application: the MongoDB store, its indexes and seed data,
//! the listener, and the whole route table in one block.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_cors::Cors;
use actix_web::dev::{ResourceDef, Server};
use actix_web::http::Method;
use actix_web::middleware::{Condition, from_fn};
use actix_web::web;
use actix_web::{App, HttpServer};
use std::time::Duration;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::access::Access;
use crate::auth::bootstrap::bootstrap_admin;
use crate::config::Settings;
use crate::departments::Departments;
use crate::distribution::Distribution;
use crate::domain::permission::DEFAULT_GRANTS;
use crate::error::Error;
use crate::http::{bounds, extract};
use crate::limits::Limits;
use crate::live::Live;
use crate::livechat::Livechat;
use crate::route_table::route_table;
use crate::state::AppState;
use crate::store::{self, Store};
use crate::telemetry::{self, metrics};
use crate::workspace::Workspace;

pub struct Application {
    port: u16,
    server: Server,
    store: Store,
    /// The engine's background work: the queue sweep and the repair.
    background: tokio::task::JoinHandle<()>,
    /// The change-stream reader feeding the live connections.
    live: tokio::task::JoinHandle<()>,
}

impl Application {
    /// Connects to MongoDB, prepares indexes and seed data, binds the
    /// listener (port 0 picks a free port) and builds the server.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        store::observe(store::Observer {
            command: |name| {
                metrics::record_mongodb_command(name);
                telemetry::commands::note_command();
            },
            failure: metrics::record_mongodb_error,
        });
        let store = Store::connect(&database_target(&settings)).await?;
        let prepared = prepare_database(&store, &settings).await;
        let listener = TcpListener::bind((settings.bind_ip.as_str(), settings.port))?;
        let port = listener.local_addr()?.port();
        let distribution = Distribution::new(store.clone(), settings.clone());
        let background = distribution.spawn_background();
        let workspace = Workspace::new(store.clone(), &settings);
        let livechat = Livechat::new(store.clone(), distribution.clone(), workspace.clone());
        let departments = Departments::new(
            store.clone(),
            distribution.clone(),
            workspace.clone(),
            settings.routing.strict_counts,
        );
        let live = Live::new(livechat.clone(), &settings.live);
        let live_background = live.spawn_background(store.clone());
        let services = Services {
            distribution,
            departments,
            workspace,
            livechat,
            live,
            prepared,
        };
        let server = run(listener, store.clone(), services, settings)?;
        Ok(Application {
            port,
            server,
            store,
            background,
            live: live_background,
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
        self.live.abort();
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
/// Where the store connects, from the settings.
pub fn database_target(settings: &Settings) -> store::Target {
    store::Target {
        url: settings.mongo_url.clone(),
        server_selection_timeout_ms: settings.mongo.server_selection_timeout_ms,
        connect_timeout_ms: settings.mongo.connect_timeout_ms,
        transactions: settings.mongo.transactions,
    }
}

/// Creates indexes and seed data: Rocket.Chat's roles and default
/// permission grants where missing, and the configured admin when no
/// admin exists. When MongoDB is not reachable yet the
/// service still starts (answering 503 where the database is needed) and
/// keeps trying in the background until it succeeds. Answers the flag
/// that says it has (`/readyz` waits for it).
async fn prepare_database(store: &Store, settings: &Settings) -> Arc<AtomicBool> {
    async fn attempt(store: &Store, settings: &Settings) -> Result<(), crate::error::Error> {
        store.ensure_indexes().await?;
        store.roles().seed().await?;
        store.permissions().seed(DEFAULT_GRANTS).await?;
        if let Some(admin) = settings.bootstrap_admin() {
            bootstrap_admin(store, admin).await?;
        }
        store
            .settings()
            .seed(|d| Workspace::initial_value(settings, d))
            .await
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
    let prepared = Arc::new(AtomicBool::new(first.is_ok()));
    if let Err(e) = first {
        tracing::warn!(error = %crate::error::error_chain_fmt(&e), "database not ready; retrying in the background");
        let (store, settings) = (store.clone(), settings.clone());
        let done = prepared.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                match attempt(&store, &settings).await {
                    Ok(()) => {
                        tracing::info!("database prepared");
                        done.store(true, Ordering::Release);
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %crate::error::error_chain_fmt(&e), "database still not ready")
                    }
                }
            }
        });
    }
    prepared
}

/// The services the handlers call, built once.
struct Services {
    distribution: Distribution,
    departments: Departments,
    workspace: Workspace,
    livechat: Livechat,
    live: Live,
    prepared: Arc<AtomicBool>,
}

fn run(
    listener: TcpListener,
    store: Store,
    services: Services,
    settings: Settings,
) -> std::io::Result<Server> {
    let workers = settings.http.workers;
    let grace = settings.http.shutdown_grace_seconds;
    let cors_origins = settings.http.cors_origins.clone();
    let limits = Limits::new(&settings.rate_limit);
    let Services {
        distribution,
        departments,
        workspace,
        livechat,
        live,
        prepared,
    } = services;
    let state = web::Data::new(AppState {
        access: Access::new(store.clone()),
        prepared,
        livechat,
        live,
        workspace,
        departments,
        store,
        settings,
        limits,
        distribution,
        api_document: serde_json::to_vec(&crate::openapi::document(&route_table()))
            .expect("the OpenAPI document serializes")
            .into(),
    });
    // Installed here so /metrics lists the metric descriptions from the start.
    metrics::handle();
    let mut server = HttpServer::new(move || {
        // The last `wrap` runs first: every answer, including 413, 503 and
        // CORS refusals, gets a request id, a log line and metrics.
        App::new()
            .wrap(from_fn(bounds::limit_body))
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
                    r.register(cfg);
                }
            })
            // The browsable reference is not part of the API it documents.
            .route(
                "/api/docs",
                web::get().to(crate::routes::ops::docs_redirect),
            )
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
