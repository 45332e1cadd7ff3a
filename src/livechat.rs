//! The visitor side of livechat, as the widget drives it: registration,
//! the visitor's room (where routing happens), its agent, its messages and
//! its close. A service held in the application state; each public
//! handler calls it once.
//!
//! A room's routing state is its assignment: the room is routed through
//! [`Distribution::route`] with the room's id as the assignment's
//! `roomId`, and every answer here reads `servedBy` and the queue position
//! from that assignment. The engine writes the same state onto the room
//! document for Rocket.Chat's clients ([`Distribution::publish_room`]).

use crate::distribution::{Distribution, RouteRequest, Routed};
use crate::domain::assignment::{Assignment, Status};
use crate::domain::department::Department;
use crate::domain::setting::{GUEST_COUNT, LIVECHAT_ENABLED};
use crate::domain::user::User;
use crate::domain::visitor::{MessageText, Registration, VisitorToken};
use crate::error::Error;
use crate::store::Store;
use crate::store::assignments::QueueScope;
use crate::store::messages::{Author, Message, NewMessage};
use crate::store::rooms::Room;
use crate::store::visitors::Visitor;
use crate::workspace::{Snapshot, Workspace};

/// What Rocket.Chat answers when a visitor closes its chat.
pub const CLOSED_BY_VISITOR: &str = "Closed by visitor";

/// A room with its routing state, read from its assignment.
#[derive(Debug, Clone)]
pub struct RoomView {
    pub room: Room,
    pub assignment: Option<Assignment>,
    /// While it waits: its place in its queue (1 = next).
    pub queue_position: Option<u64>,
}

impl RoomView {
    /// The agent holding the chat, per its assignment.
    pub fn served_by(&self) -> Option<(&str, &str, chrono::DateTime<chrono::Utc>)> {
        let a = self.assignment.as_ref()?;
        match (a.status, a.agent_id.as_deref(), a.username.as_deref()) {
            (Status::Open | Status::Closed, Some(id), Some(username)) => {
                Some((id, username, a.routed_at.unwrap_or(a.created_at)))
            }
            _ => None,
        }
    }
}

/// Everything `livechat/config` answers.
pub struct ConfigView {
    pub settings: Snapshot,
    pub departments: Vec<Department>,
    pub online: bool,
    pub guest: Option<Visitor>,
    pub room: Option<RoomView>,
    pub agent: Option<AgentView>,
}

/// The agent as a visitor sees it (Rocket.Chat's `normalizeAgent`).
pub enum AgentView {
    Shown(User),
    /// `Livechat_show_agent_info` is off.
    Hidden,
}

/// What a visitor's live connection shows of its room: the agent serving
/// it (with its id), or its place in the queue.
#[derive(Default)]
pub struct LiveRoom {
    pub agent: Option<(String, AgentView)>,
    pub queue_position: Option<u64>,
    /// The queue it waits in, while it waits.
    pub queue: Option<QueueScope>,
}

/// A room opened for a visitor.
struct Opened {
    view: RoomView,
    new_room: bool,
    /// Its chat was decided by this request (not found live).
    decided_now: bool,
}

impl Opened {
    fn new_chat(&self) -> Option<&Assignment> {
        match self.decided_now {
            true => self.view.assignment.as_ref(),
            false => None,
        }
    }
}

#[derive(Clone)]
pub struct Livechat {
    store: Store,
    distribution: Distribution,
    workspace: Workspace,
}

impl Livechat {
    pub fn new(store: Store, distribution: Distribution, workspace: Workspace) -> Livechat {
        Livechat {
            store,
            distribution,
            workspace,
        }
    }

    /// The widget's configuration, and for a known token the visitor, its
    /// open room, its agent and its place in the queue.
    /// With a department: whether that department has an available agent.
    pub async fn config(
        &self,
        token: Option<&str>,
        department: Option<&str>,
    ) -> Result<ConfigView, Error> {
        let settings = self.workspace.snapshot().await?;
        if !settings.flag(LIVECHAT_ENABLED) {
            // Rocket.Chat answers nothing else while livechat is off.
            return Ok(ConfigView {
                settings,
                departments: Vec::new(),
                online: false,
                guest: None,
                room: None,
                agent: None,
            });
        }
        let departments = self.store.departments().list_public().await?;
        let online = match department.filter(|d| !d.is_empty()) {
            Some(d) => self.store.department_agents().any_available(d).await?,
            None => self.store.users().any_agent_available().await?,
        };
        let guest = match token.filter(|t| !t.is_empty()) {
            Some(t) => self.store.visitors().find_by_token(t).await?,
            None => None,
        };
        let room = match &guest {
            Some(g) => match self.store.rooms().open_for_token(&g.token).await? {
                Some(room) => Some(self.view(room).await?),
                None => None,
            },
            None => None,
        };
        let agent = match room.as_ref().and_then(RoomView::served_by) {
            Some((id, _, _)) => self.agent_view(&settings, id).await?,
            None => None,
        };
        Ok(ConfigView {
            settings,
            departments,
            online,
            guest,
            room,
            agent,
        })
    }

    async fn agent_view(&self, settings: &Snapshot, id: &str) -> Result<Option<AgentView>, Error> {
        if !settings.flag(crate::domain::setting::SHOW_AGENT_INFO) {
            return Ok(Some(AgentView::Hidden));
        }
        Ok(self
            .store
            .users()
            .find_by_id(id)
            .await?
            .map(AgentView::Shown))
    }

    async fn view(&self, room: Room) -> Result<RoomView, Error> {
        let assignment = self.store.assignments().of_room(&room.id).await?;
        let queue_position = match &assignment {
            Some(a) => self.store.assignments().queue_position(a).await?,
            None => None,
        };
        Ok(RoomView {
            room,
            assignment,
            queue_position,
        })
    }

    /// An enabled, unarchived department, found by id (or, as Rocket.Chat
    /// also accepts, by name).
    async fn department_for_visitor(&self, wanted: &str) -> Result<Department, Error> {
        let departments = self.store.departments();
        let found = match departments.find_by_id(wanted).await? {
            Some(d) => Some(d),
            None => departments
                .list_public()
                .await?
                .into_iter()
                .find(|d| d.name == wanted),
        };
        found.filter(|d| d.enabled && !d.archived).ok_or_else(|| {
            Error::meteor(
                "error-invalid-department",
                "The selected department is invalid",
            )
            .with_details(serde_json::json!({"field": "visitor.department"}))
        })
    }

    /// Registers a visitor (or updates the one with this token). Nothing is
    /// stored when the department is unknown or disabled.
    pub async fn register(&self, registration: Registration) -> Result<Visitor, Error> {
        let department = match &registration.department {
            Some(d) => Some(self.department_for_visitor(d).await?.id),
            None => None,
        };
        let visitors = self.store.visitors();
        // Only a new visitor takes a number (Rocket.Chat's `guest-N`).
        let known = visitors
            .find_by_token(registration.token.as_str())
            .await?
            .is_some();
        let number = match known {
            true => 0,
            false => self.store.settings().next_number(GUEST_COUNT).await?,
        };
        visitors
            .register(&registration, department.as_deref(), || {
                format!("guest-{number}")
            })
            .await
    }

    pub async fn visitor(&self, token: &VisitorToken) -> Result<Visitor, Error> {
        self.store
            .visitors()
            .find_by_token(token.as_str())
            .await?
            .ok_or_else(Error::invalid_token)
    }

    pub async fn set_status(&self, token: &VisitorToken, status: &str) -> Result<(), Error> {
        if !self
            .store
            .visitors()
            .set_status(token.as_str(), status)
            .await?
        {
            return Err(Error::invalid_token());
        }
        Ok(())
    }

    /// Removes a visitor and its data (rooms, inquiries, messages), first
    /// closing its live chat so the agent's slot is freed.
    pub async fn remove_visitor(&self, token: &VisitorToken) -> Result<Visitor, Error> {
        let visitor = self.visitor(token).await?;
        if let Some(live) = self
            .store
            .assignments()
            .live_for_visitor(token.as_str())
            .await?
        {
            self.distribution.close(&live.id).await?;
        }
        let rooms = self.store.rooms().remove_of_visitor(token.as_str()).await?;
        self.store.messages().remove_of_rooms(&rooms).await?;
        self.store.visitors().delete(&visitor.id).await?;
        Ok(visitor)
    }

    /// The visitor's room, only if it is the visitor's.
    async fn own_room(&self, token: &VisitorToken, rid: &str) -> Result<Room, Error> {
        self.store
            .rooms()
            .find(rid)
            .await?
            .filter(|r| r.visitor_token == token.as_str())
            .ok_or_else(Error::invalid_room)
    }

    /// The visitor's open room: the one named by `rid` (as Rocket.Chat, a
    /// room id names one of the visitor's open livechat rooms, and a new
    /// room's id is never the client's), or its open one, or a new one
    /// routed through the engine with the visitor's department. Answers
    /// whether it is new.
    pub async fn room(
        &self,
        token: &VisitorToken,
        rid: Option<&str>,
    ) -> Result<(RoomView, bool), Error> {
        let visitor = self.visitor(token).await?;
        let rooms = self.store.rooms();
        let existing = match rid {
            Some(rid) => Some(
                rooms
                    .open_of_visitor(rid, &visitor.token)
                    .await?
                    .ok_or_else(Error::invalid_room)?,
            ),
            None => rooms.open_for_token(&visitor.token).await?,
        };
        if let Some(room) = existing {
            return Ok((self.view(room).await?, false));
        }
        let this = self.clone();
        let opened = self
            .distribution
            .run_to_end(
                async move { this.open_room(visitor).await },
                Opened::new_chat,
            )
            .await?;
        Ok((opened.view, opened.new_room))
    }

    /// Routes the visitor's new chat, then opens the room its decision
    /// names. A chat decided here whose room could not be opened is taken
    /// back.
    async fn open_room(&self, visitor: Visitor) -> Result<Opened, Error> {
        // Route first, then create the room the decision names: the
        // engine keeps one live assignment per visitor, so concurrent asks
        // all land on the same room id and no losing room is ever stored.
        let rid = crate::domain::id::new_id();
        let request = RouteRequest {
            visitor_token: visitor.token.clone(),
            department_id: visitor.department.clone(),
            room_id: Some(rid.clone()),
            record_queued: true,
            // The widget's chats are text chats.
            channel: crate::domain::assignment::Channel::Chat,
        };
        let (assignment, new_room, decided_now) = match self.distribution.route(request).await? {
            Routed::New(a) => (a, true, true),
            Routed::Existing(a) if a.room_id.is_none() => {
                // Routed by `agent.next` before the visitor opened a room.
                let attached = self.store.assignments().attach_room(&a.id, &rid).await?;
                (attached.ok_or_else(Error::invalid_room)?, true, false)
            }
            Routed::Existing(a) => (a, false, false),
            Routed::NoAgent => {
                return Err(Error::Unexpected(anyhow::anyhow!(
                    "a queued room was not recorded"
                )));
            }
        };
        match self.room_of(&visitor, &rid, assignment.clone()).await {
            Ok(view) => Ok(Opened {
                view,
                new_room,
                decided_now,
            }),
            Err(e) => {
                if decided_now {
                    self.distribution
                        .withdraw(&assignment.id, &assignment.visitor_token);
                }
                Err(e)
            }
        }
    }

    /// Creates (or finds) the room a decision names and writes the
    /// decision onto it.
    async fn room_of(
        &self,
        visitor: &Visitor,
        rid: &str,
        assignment: Assignment,
    ) -> Result<RoomView, Error> {
        let rooms = self.store.rooms();
        let assignments = self.store.assignments();
        let room_id = assignment.room_id.clone().unwrap_or(rid.to_string());
        let department = assignment
            .requested_department_id
            .clone()
            .or(visitor.department.clone());
        let room = rooms
            .create(&room_id, visitor, department.as_deref())
            .await?;
        // The engine published the decision before the room existed: read
        // the assignment as it is now (the queue may have placed it since)
        // and write it onto the room.
        let assignment = assignments
            .find(&assignment.id)
            .await?
            .unwrap_or(assignment);
        self.distribution.publish_room(&assignment).await;
        let room = rooms.find(&room_id).await?.unwrap_or(room);
        let queue_position = assignments.queue_position(&assignment).await?;
        Ok(RoomView {
            room,
            assignment: Some(assignment),
            queue_position,
        })
    }

    /// The agent serving the visitor's room.
    pub async fn agent_of_room(&self, token: &VisitorToken, rid: &str) -> Result<AgentView, Error> {
        self.visitor(token).await?;
        let view = self.view(self.own_room(token, rid).await?).await?;
        let settings = self.workspace.snapshot().await?;
        let agent = match view.served_by() {
            Some((id, _, _)) => self.agent_view(&settings, id).await?,
            None => None,
        };
        agent.ok_or_else(|| Error::meteor("invalid-agent", ""))
    }

    /// The routing state of the visitor's room for its live connection;
    /// `None` when the room is not this visitor's.
    pub async fn live_room(&self, token: &str, rid: &str) -> Result<Option<LiveRoom>, Error> {
        let Some(room) = self
            .store
            .rooms()
            .find(rid)
            .await?
            .filter(|r| !token.is_empty() && r.visitor_token == token)
        else {
            return Ok(None);
        };
        let view = self.view(room).await?;
        let agent = match view.served_by() {
            Some((id, _, _)) => self
                .agent_shown(id)
                .await?
                .map(|shown| (id.to_string(), shown)),
            None => None,
        };
        let queue = match (&view.assignment, view.queue_position) {
            (Some(a), Some(_)) => Some(QueueScope::of(a)),
            _ => None,
        };
        Ok(Some(LiveRoom {
            agent,
            queue_position: view.queue_position,
            queue,
        }))
    }

    /// An agent as visitors are shown it, per `Livechat_show_agent_info`.
    pub async fn agent_shown(&self, id: &str) -> Result<Option<AgentView>, Error> {
        let settings = self.workspace.snapshot().await?;
        self.agent_view(&settings, id).await
    }

    /// The visitor ends its chat: the room closes and the agent's slot is
    /// freed and handed to the queue, as any close.
    pub async fn close(&self, token: &VisitorToken, rid: &str) -> Result<(), Error> {
        self.visitor(token).await?;
        let room = self.own_room(token, rid).await?;
        if !room.open {
            return Err(Error::meteor("room-closed", ""));
        }
        self.store
            .rooms()
            .closed_by_visitor(rid, CLOSED_BY_VISITOR)
            .await?;
        match self.store.assignments().of_room(rid).await? {
            Some(a) => {
                self.distribution.close(&a.id).await?;
            }
            None => {
                return Err(Error::Unexpected(anyhow::anyhow!(
                    "livechat room {rid} has no assignment"
                )));
            }
        }
        Ok(())
    }

    /// Stores a message the visitor sends to its open room.
    pub async fn send(
        &self,
        token: &VisitorToken,
        rid: &str,
        text: &str,
        id: Option<String>,
    ) -> Result<Message, Error> {
        let visitor = self.visitor(token).await?;
        let room = self.own_room(token, rid).await?;
        if !room.open {
            return Err(Error::meteor("room-closed", ""));
        }
        let settings = self.workspace.snapshot().await?;
        let max = settings.int("Message_MaxAllowedSize").max(1) as usize;
        let text = MessageText::parse(text, max)?;
        let message = self
            .store
            .messages()
            .insert(NewMessage {
                id: id.unwrap_or_else(crate::domain::id::new_id),
                rid,
                msg: text.as_str(),
                author: Author {
                    id: visitor.id.clone(),
                    username: visitor.username.clone(),
                    name: visitor.name.clone(),
                },
                token: Some(token.as_str()),
                alias: visitor.name.as_deref(),
            })
            .await?;
        self.store.rooms().message_added(rid, message.ts).await?;
        Ok(message)
    }

    /// The newest messages of the visitor's room, newest first.
    pub async fn history(
        &self,
        token: &VisitorToken,
        rid: &str,
        before: Option<chrono::DateTime<chrono::Utc>>,
        limit: i64,
    ) -> Result<Vec<Message>, Error> {
        self.visitor(token).await?;
        self.own_room(token, rid).await?;
        self.store.messages().history(rid, before, limit).await
    }
}
