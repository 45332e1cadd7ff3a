//! Every endpoint Switchboard serves, as data: the server registers it
//! and the OpenAPI document is built from it (see [`crate::openapi`]), so a
//! route cannot be served undocumented or documented and not served.

use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::web::{self, ServiceConfig};
use actix_web::{FromRequest, Handler, Responder};
use utoipa::openapi::RefOr;
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::schema::Schema;

use crate::http::bounds;
use crate::routes::departments::{agents, archive, create, lookup, read, update};
use crate::routes::livechat::{config, messages, rooms, visitors};
use crate::routes::{
    assignments, auth, auto_distribution, health, inquiries, livechat_users, ops, permissions,
    queue, settings, users, websocket,
};

/// One registered endpoint. The table is data so that the OpenAPI document
/// is built from exactly what is served.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    /// `module.handler`: unique, so it serves as the operation id.
    pub handler: &'static str,
    register: Box<dyn Fn(&mut ServiceConfig) + Send + Sync>,
    /// Adds the handler's `#[utoipa::path]` operation and the schemas it
    /// refers to.
    document: fn(&mut Collected),
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
                    .wrap(from_fn(bounds::limit_time));
                cfg.route(path, route);
            }),
            document: collect::<D>,
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
        route!(GET, "/websocket", websocket::upgrade),
        route!(POST, "/api/v1/login", auth::login),
        route!(POST, "/api/v1/logout", auth::logout),
        route!(GET, "/api/v1/me", auth::me),
        route!(POST, "/api/v1/users.create", users::create),
        route!(POST, "/api/v1/users.setStatus", users::set_status),
        route!(GET, "/api/v1/permissions.listAll", permissions::list_all),
        route!(GET, "/api/v1/settings.public", settings::public),
        route!(GET, "/api/v1/settings/{_id}", settings::get),
        route!(POST, "/api/v1/settings/{_id}", settings::set),
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
        route!(POST, "/api/v1/livechat/visitor", visitors::register),
        route!(POST, "/api/v1/livechat/visitor.status", visitors::status),
        route!(GET, "/api/v1/livechat/visitor/{token}", visitors::get),
        route!(DELETE, "/api/v1/livechat/visitor/{token}", visitors::remove),
        route!(POST, "/api/v1/livechat/page.visited", visitors::page_visited),
        route!(GET, "/api/v1/livechat/room", rooms::room),
        route!(POST, "/api/v1/livechat/room.close", rooms::close),
        route!(GET, "/api/v1/livechat/agent.info/{rid}/{token}", rooms::agent_info),
        route!(POST, "/api/v1/livechat/message", messages::send),
        route!(GET, "/api/v1/livechat/messages.history/{rid}", messages::history),
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

impl Route {
    /// Registers the handler on `cfg`.
    pub fn register(&self, cfg: &mut ServiceConfig) {
        (self.register)(cfg)
    }

    /// Adds the route's operation and the schemas it refers to.
    pub fn document(&self, into: &mut Collected) {
        (self.document)(into)
    }
}

/// What the routes contribute while the document is assembled.
#[derive(Default)]
pub struct Collected {
    pub operations: Vec<(String, HttpMethod, Operation)>,
    pub schemas: Vec<(String, RefOr<Schema>)>,
}

/// Adds the operation and schemas of one `#[utoipa::path]` type.
fn collect<D: utoipa::Path + utoipa::__dev::SchemaReferences>(into: &mut Collected) {
    for method in D::methods() {
        into.operations.push((D::path(), method, D::operation()));
    }
    D::schemas(&mut into.schemas);
}
