//! The chat distribution engine: which agent takes each chat. A service
//! held in the application state; each handler calls it once.
//!
//! It applies the rules of `domain::routing` through the atomic steps of
//! `store::routing`, records every decision as an assignment, places
//! waiting chats when room appears, and repairs what a failure half-way
//! through a decision or a close left behind (see `repair`).
//!
//! What rarely changes (the Auto Distribution configuration, a department's
//! rules) is cached per instance for at most [`CACHE_TTL`], so a change
//! made through any instance applies everywhere within that bound; a change
//! made through this instance applies here at once.

mod background;
mod batch;
mod choose;
mod decide;
mod gate;
mod manual;
mod offers;
mod policies;
mod presence;
mod queue;
mod repair;
mod settle;
mod take;
mod together;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use tokio::time::Instant;

pub use policies::{Policies, Policy};
pub use queue::{QUEUE_SHOWN, WaitingQueue};
pub use repair::Repaired;
pub use settle::RequestBound;

use crate::config::{CACHE_TTL, Settings};
use crate::domain::assignment::{Assignment, Status};
use crate::error::{Error, error_chain_fmt};
use crate::store::Store;
use crate::store::assignments::{NewAssignment, Recorded};
use crate::store::routing::DepartmentRules;
use crate::telemetry::{commands, metrics};

/// A request to route a new chat.
#[derive(Debug, Clone)]
pub struct RouteRequest {
    pub visitor_token: String,
    pub department_id: Option<String>,
    pub room_id: Option<String>,
    /// Whether a decision that found no agent is stored as `queued`.
    pub record_queued: bool,
    pub channel: crate::domain::assignment::Channel,
}

/// The answer: a new decision, or the visitor's live (open or queued)
/// assignment.
#[derive(Debug, Clone)]
pub enum Routed {
    New(Assignment),
    Existing(Assignment),
    /// No agent could take it and the request asked not to queue it.
    NoAgent,
}

impl Routed {
    /// The chat this decision recorded, if it recorded one.
    pub fn new_chat(&self) -> Option<&Assignment> {
        match self {
            Routed::New(a) => Some(a),
            _ => None,
        }
    }

    /// The chat the answer is about: new or live.
    pub fn chat(&self) -> Option<&Assignment> {
        match self {
            Routed::New(a) | Routed::Existing(a) => Some(a),
            Routed::NoAgent => None,
        }
    }
}

/// What a routing answer shows besides the decision.
#[derive(Debug, Clone, Copy)]
pub enum Shows {
    /// While the chat waits, its place in its queue.
    QueuePlace,
    /// The agent serving it.
    Agent,
}

/// What was read for a routing answer, as it [`Shows`].
pub enum Shown {
    /// No chat to show (no agent, and none queued).
    Nothing,
    /// Its place in its queue (1 = next); `None` unless it waits.
    QueuePlace(Option<u64>),
    /// The agent serving it, if any.
    Agent(Option<crate::domain::user::User>),
}

/// A decision with what its answer shows, read in the same run: so a
/// request cannot time out between the decision and its answer and leave
/// a chat nobody was told of.
pub struct Answered {
    pub routed: Routed,
    pub shown: Shown,
}

impl Answered {
    fn new_chat(&self) -> Option<&Assignment> {
        self.routed.new_chat()
    }
}

/// The engine of one instance. Cheap to clone: clones share the caches.
#[derive(Clone)]
pub struct Distribution {
    store: Store,
    settings: Arc<Settings>,
    policies: Cache<(), Arc<Policies>>,
    departments: Cache<String, Option<DepartmentRules>>,
    gate: Arc<gate::Gate>,
    /// Takes that wait for their department's turn, taken together.
    takes: Arc<batch::Batcher<together::Seat, Result<together::Seated, Error>>>,
    /// Records that wait for their turn, inserted together.
    inserts: Arc<batch::Batcher<NewAssignment, Result<Recorded, Error>>>,
    /// Decisions running at once on this instance (`routing.max_decisions`).
    admission: Arc<tokio::sync::Semaphore>,
}

fn shared(e: Arc<Error>) -> Error {
    e.shared()
}

impl Distribution {
    pub fn new(store: Store, settings: Settings) -> Distribution {
        Distribution {
            store,
            settings: Arc::new(settings.clone()),
            policies: Cache::builder().time_to_live(CACHE_TTL).build(),
            departments: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(CACHE_TTL)
                .build(),
            gate: Arc::new(gate::Gate::default()),
            takes: Arc::default(),
            inserts: Arc::default(),
            admission: Arc::new(tokio::sync::Semaphore::new(
                settings.routing.max_decisions.max(1) as usize,
            )),
        }
    }

    /// The Auto Distribution configuration changed through this instance:
    /// it applies here at once; limits may have changed, so whether each
    /// named agent (and each agent now marked full) is full is published
    /// again; and auto distribution may have been enabled or given room, so
    /// waiting chats are placed.
    pub async fn configuration_changed(&self, agent_ids: &[&str]) -> Result<(), Error> {
        self.policies.invalidate_all();
        let global = self.policies().await?.global_limit;
        self.store.refresh_agent_loads(agent_ids, global).await?;
        self.sweep_now().await;
        Ok(())
    }

    /// A department changed through this instance: it applies here at
    /// once, and since it may have gained room (an agent linked, a limit
    /// raised, opened again), the chats that wait for it are placed. The
    /// change has succeeded, so a failure to place them is left to the
    /// sweep.
    pub async fn department_changed(&self, id: &str) {
        self.departments.invalidate(id).await;
        match self.policies().await {
            Ok(p) => self.drain_for_department(id, &p).await,
            Err(e) => warn_undrained("a department changed", &e),
        }
    }

    /// How long a decision may take before it gives up: inside the request
    /// bound, so that its answer (and the clean-up of a decision that could
    /// not finish) comes before the request's own 503.
    fn decision_bound(&self) -> Duration {
        let bound = Duration::from_millis(self.settings.http.request_timeout_ms.max(1));
        bound - (bound / 5).min(Duration::from_secs(2))
    }

    /// Routes one chat: decides and records it (`open` with an agent, or
    /// `queued`), or answers the visitor's live assignment. The decision
    /// runs to its end even if the caller stops waiting, so it never stops
    /// between two of its writes.
    pub async fn route(&self, request: RouteRequest) -> Result<Routed, Error> {
        let decision = self.admitted(request).await?;
        self.run_to_end(decision, Routed::new_chat).await
    }

    /// Routes one chat as [`route`](Distribution::route) does, and reads
    /// what its answer `shows` in the same run: a chat decided for a
    /// request that fails or stops waiting before its answer is ready is
    /// withdrawn.
    pub async fn route_and_read(
        &self,
        request: RouteRequest,
        shows: Shows,
    ) -> Result<Answered, Error> {
        let decision = self.admitted(request).await?;
        let engine = self.clone();
        let work = async move {
            let routed = decision.await?;
            match engine.read_answer(&routed, shows).await {
                Ok(shown) => Ok(Answered { routed, shown }),
                Err(e) => {
                    if let Some(chat) = routed.new_chat() {
                        engine.withdraw(&chat.id, &chat.visitor_token);
                    }
                    Err(e)
                }
            }
        };
        self.run_to_end(work, Answered::new_chat).await
    }

    /// Waits for an admission turn, then answers the decision to run with
    /// it. Decisions wait their turn here, in arrival order, before they
    /// touch the database: under a burst the database sees a bounded number
    /// of them (it slows down with more), and one that could not start
    /// within its bound is answered 503 having done nothing, rather than
    /// adding work that nobody waits for any more.
    async fn admitted(
        &self,
        request: RouteRequest,
    ) -> Result<impl Future<Output = Result<Routed, Error>> + Send + 'static, Error> {
        let engine = self.clone();
        let deadline = Instant::now() + self.decision_bound();
        let turn =
            match tokio::time::timeout_at(deadline, self.admission.clone().acquire_owned()).await {
                Ok(Ok(turn)) => turn,
                _ => {
                    metrics::record_routing_decision("none", "shed");
                    return Err(Error::Unavailable(anyhow::anyhow!(
                        "no decision could start within the request bound"
                    )));
                }
            };
        Ok(async move {
            let (routed, used) = commands::counted(async move {
                let routed = engine.decide(request, deadline).await;
                if let Ok(Routed::New(a) | Routed::Existing(a)) = &routed {
                    engine.publish_room(a).await;
                }
                drop(turn);
                routed
            })
            .await;
            metrics::record_decision_commands(used);
            routed
        })
    }

    /// What an answer shows of a decision's chat.
    async fn read_answer(&self, routed: &Routed, shows: Shows) -> Result<Shown, Error> {
        let Some(chat) = routed.chat() else {
            return Ok(Shown::Nothing);
        };
        Ok(match shows {
            Shows::QueuePlace => {
                Shown::QueuePlace(self.store.assignments().queue_position(chat).await?)
            }
            Shows::Agent => match chat.agent_id.as_deref() {
                Some(id) => Shown::Agent(self.store.users().find_by_id(id).await?),
                None => Shown::Agent(None),
            },
        })
    }

    /// Closes an assignment. The first close of an open one frees the
    /// agent's slot and hands it the oldest chat waiting for it; a repeated
    /// close changes nothing. Runs to its end even if the caller stops
    /// waiting.
    pub async fn close(&self, id: &str) -> Result<Option<Assignment>, Error> {
        let engine = self.clone();
        let id = id.to_string();
        background::to_end(async move { engine.close_now(&id).await }).await
    }

    async fn close_now(&self, id: &str) -> Result<Option<Assignment>, Error> {
        let assignments = self.store.assignments();
        let Some(closed) = assignments.close(id).await? else {
            return Ok(assignments
                .find(id)
                .await?
                .filter(|a| a.status != Status::Abandoned));
        };
        self.publish_room(&closed).await;
        let policies = self.policies().await?;
        self.release_closed(&closed, &policies).await?;
        if closed.agent_id.is_some() {
            self.drain_after_close(&closed, &policies).await;
        }
        Ok(Some(closed))
    }

    /// An agent may have gained room (came online, became available, got a
    /// higher limit): places waiting chats of its departments. The change
    /// has succeeded, so a failure here is logged and left to the sweep.
    async fn agent_gained_room(&self, agent_id: &str) {
        match self.policies().await {
            Ok(p) => self.drain_for_agent(agent_id, &p).await,
            Err(e) => warn_undrained("an agent gained room", &e),
        }
    }

    /// Places every waiting chat that can be placed now.
    pub async fn sweep_now(&self) -> usize {
        let placed = async {
            let policies = self.policies().await?;
            self.drain_all(&policies).await
        };
        match placed.await {
            Ok(n) => n,
            Err(e) => {
                tracing::debug!(error = %error_chain_fmt(&e), "queue sweep failed; retrying next tick");
                0
            }
        }
    }

    /// Starts this instance's background work: the periodic sweep of the
    /// waiting queue (`routing.queue_interval_ms`), the repair
    /// (`routing.repair_interval_ms`) and the time-out of unanswered offers
    /// (`routing.offer_timeout_ms`). Aborting the handle stops them all.
    pub fn spawn_background(&self) -> tokio::task::JoinHandle<()> {
        let sweep = self.settings.routing.queue_interval_ms;
        let repair = self.settings.routing.repair_interval_ms;
        let offer_timeout = self.settings.routing.offer_timeout_ms;
        // Offers time out within a quarter of their bound, at most a second late.
        let expire = match offer_timeout {
            0 => 0,
            t => (t / 4).clamp(10, 1000),
        };
        let engine = self.clone();
        tokio::spawn(async move {
            let sweeping = background::every(sweep, |_| async {
                let placed = engine.sweep_now().await;
                if placed > 0 {
                    tracing::info!(placed, "placed waiting chats");
                }
            });
            let repairing = background::every(repair.max(1), |pass| {
                // The first pass after a start is full: the instance may
                // have been down while holds aged.
                let full = pass % repair::FULL_EVERY == 0;
                let engine = &engine;
                async move {
                    match engine.repair(full).await {
                        Ok(r) if r.any() => tracing::warn!(
                            ?r,
                            "repaired capacity left by failed decisions or closes"
                        ),
                        Ok(_) => {}
                        Err(e) => {
                            tracing::debug!(error = %error_chain_fmt(&e), "repair failed; retrying next tick")
                        }
                    }
                }
            });
            let expiring = background::every(expire, |_| async {
                match engine.expire_offers().await {
                    Ok(n) if n > 0 => tracing::info!(timed_out = n, "offers timed out"),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::debug!(error = %error_chain_fmt(&e), "offer time-out failed; retrying next tick")
                    }
                }
            });
            tokio::join!(sweeping, repairing, expiring);
        })
    }
}

fn warn_undrained(change: &str, e: &Error) {
    tracing::warn!(error = %error_chain_fmt(e), change, "placing waiting chats failed; the sweep retries");
}
