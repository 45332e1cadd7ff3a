//! The department registry as a service, held in the application state:
//! each department handler calls it once. It writes through the store and
//! then tells the engine, which applies the change on this instance at once
//! and places the waiting chats the change may have given room to.
//!
//! The rules a save must meet (agents must be agents, a fallback must
//! exist, an archived department is disabled) are still checked by the
//! store's save (`store/department_save.rs`).

use crate::distribution::Distribution;
use crate::domain::agent_link::{AgentLink, AgentLinkSpecs};
use crate::domain::department::{Department, DepartmentPatch, NewDepartment};
use crate::domain::setting::DEPARTMENT_REMOVAL;
use crate::error::Error;
use crate::store::Store;
use crate::workspace::Workspace;

/// A department as saved, with all its links.
pub struct Saved {
    pub department: Option<Department>,
    pub agents: Vec<AgentLink>,
}

#[derive(Clone)]
pub struct Departments {
    store: Store,
    distribution: Distribution,
    workspace: Workspace,
    /// `routing.strict_counts`: a new link starts at `count` 0.
    strict_counts: bool,
}

impl Departments {
    pub fn new(
        store: Store,
        distribution: Distribution,
        workspace: Workspace,
        strict_counts: bool,
    ) -> Departments {
        Departments {
            store,
            distribution,
            workspace,
            strict_counts,
        }
    }

    /// Registers a department with its agents.
    pub async fn create(
        &self,
        department: &NewDepartment,
        agents: &AgentLinkSpecs,
    ) -> Result<Saved, Error> {
        let id = self
            .store
            .create_department(department, agents, self.strict_counts)
            .await?;
        self.saved(&id).await
    }

    /// Changes a department's fields and links the agents given.
    pub async fn update(
        &self,
        id: &str,
        patch: &DepartmentPatch,
        agents: Option<&AgentLinkSpecs>,
    ) -> Result<Saved, Error> {
        self.store
            .update_department(id, patch, agents, self.strict_counts)
            .await?;
        self.saved(id).await
    }

    /// Links and unlinks a department's agents; a new link may place
    /// waiting chats at once.
    pub async fn save_agents(
        &self,
        id: &str,
        upsert: &AgentLinkSpecs,
        remove: &[String],
    ) -> Result<(), Error> {
        self.store
            .update_department_agents(id, upsert, remove, self.strict_counts)
            .await?;
        self.distribution.department_changed(id).await;
        Ok(())
    }

    /// Archives or unarchives a department; `false` when it does not exist.
    pub async fn set_archived(&self, id: &str, archived: bool) -> Result<bool, Error> {
        if !self.store.set_department_archived(id, archived).await? {
            return Ok(false);
        }
        self.distribution.department_changed(id).await;
        Ok(true)
    }

    /// Removes a department, while `Omnichannel_enable_department_removal`
    /// allows it (the setting wins over `departments.removal_enabled`,
    /// which only seeds it).
    pub async fn remove(&self, id: &str) -> Result<(), Error> {
        if !self.workspace.flag(DEPARTMENT_REMOVAL).await? {
            return Err(Error::code("error-department-removal-disabled"));
        }
        if !self.store.delete_department(id).await? {
            return Err(Error::code("error-department-not-found"));
        }
        self.distribution.department_changed(id).await;
        Ok(())
    }

    /// The department as stored now and all its links, once the engine
    /// has taken the change in.
    async fn saved(&self, id: &str) -> Result<Saved, Error> {
        self.distribution.department_changed(id).await;
        Ok(Saved {
            department: self.store.departments().find_by_id(id).await?,
            agents: self.store.department_agents().all_of_department(id).await?,
        })
    }
}
