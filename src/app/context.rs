//! What every feature of the app may read and use, and nothing more: the workspace (which
//! accounts), the source of cloud calls, the cache and the journal ([`Shared`]), the notice area
//! ([`Notices`]), and a handle on background work for the feature's own events ([`Cx`]).
//! Features change their own state; they reach each other only through the app's dispatch.

use super::runtime::Spawner;
use super::source::SharedSource;
use crate::jobs::Principal;
use crate::model::{Provider, Scope, Service};
use crate::store::journal::Journal;
use crate::store::{CacheKey, Store, StoreError};
use std::sync::{Arc, Mutex};

/// Current time, UNIX seconds.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

pub use crate::model::ScopeId;

/// What the window is connected to: every account (profile) and region of the estate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    /// `true` over the in-process simulator.
    pub demo: bool,
    /// One line for the title bar.
    pub description: String,
    /// Every (profile, region) of the enabled profiles, in a stable order.
    pub scopes: Vec<Scope>,
}

impl Workspace {
    /// A workspace of one account per cloud, in each cloud's default region (tests, benchmarks,
    /// the demo).
    pub fn single(account: &str, demo: bool, description: &str) -> Self {
        Workspace {
            demo,
            description: description.to_string(),
            scopes: vec![
                Scope::new(
                    account,
                    Provider::Alibaba,
                    default_region(Provider::Alibaba),
                ),
                Scope::new(account, Provider::Huawei, default_region(Provider::Huawei)),
            ],
        }
    }

    /// The scope of `id`.
    pub fn scope(&self, id: ScopeId) -> Option<&Scope> {
        self.scopes.get(usize::from(id))
    }

    /// The id of `scope`.
    pub fn scope_id(&self, scope: &Scope) -> Option<ScopeId> {
        self.scopes
            .iter()
            .position(|s| s == scope)
            .and_then(|i| ScopeId::try_from(i).ok())
    }

    /// The scopes an inventory of `service` lists: every region of each profile of its cloud
    /// for a regional service, else each profile once (in its first region).
    pub fn scopes_for(&self, service: Service) -> Vec<ScopeId> {
        let mut seen_profiles: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for (i, scope) in self.scopes.iter().enumerate() {
            if scope.provider != service.provider() {
                continue;
            }
            if !service.regional() {
                if seen_profiles.contains(&scope.profile.as_str()) {
                    continue;
                }
                seen_profiles.push(&scope.profile);
            }
            if let Ok(id) = ScopeId::try_from(i) {
                out.push(id);
            }
        }
        out
    }

    /// The profile of `provider`'s first scope (`none` without one): what single-account
    /// features (KMS create, the legacy account name) use.
    pub fn account_for(&self, provider: Provider) -> &str {
        self.scopes
            .iter()
            .find(|s| s.provider == provider)
            .map_or("none", |s| s.profile.as_str())
    }

    /// The profiles of the workspace, each once, in order.
    pub fn profiles(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for s in &self.scopes {
            if !out.contains(&s.profile.as_str()) {
                out.push(&s.profile);
            }
        }
        out
    }
}

/// Default region of a provider when nothing else says (Alibaba: cn-hangzhou, Huawei: cn-north-4).
fn default_region(provider: Provider) -> &'static str {
    crate::profiles::default_region(provider)
}

/// Severity of a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeLevel {
    /// Something worked.
    Info,
    /// Something failed.
    Error,
}

/// A message in the notice area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Severity.
    pub level: NoticeLevel,
    /// Text.
    pub text: String,
}

impl Notice {
    /// An error notice.
    pub fn error(text: impl Into<String>) -> Self {
        Notice {
            level: NoticeLevel::Error,
            text: text.into(),
        }
    }

    /// An info notice.
    pub fn info(text: impl Into<String>) -> Self {
        Notice {
            level: NoticeLevel::Info,
            text: text.into(),
        }
    }
}

/// The notice area: the five most recent messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notices(Vec<Notice>);

impl Notices {
    /// Adds a message (the oldest beyond five is dropped).
    pub fn push(&mut self, level: NoticeLevel, text: impl Into<String>) {
        self.0.push(Notice {
            level,
            text: text.into(),
        });
        if self.0.len() > 5 {
            self.0.remove(0);
        }
    }

    /// Drops the message at `index`.
    pub fn dismiss(&mut self, index: usize) {
        if index < self.0.len() {
            self.0.remove(index);
        }
    }

    /// The messages, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Notice> {
        self.0.iter()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `true` when there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What every feature reads: the workspace, where cloud calls go, the cache and the journal.
pub struct Shared {
    /// Connected to.
    pub workspace: Workspace,
    /// Where cloud calls go.
    pub source: SharedSource,
    /// The cache (`None`: nothing is cached).
    pub store: Option<Arc<Mutex<Store>>>,
    /// The bulk-job journal and audit log (in memory for the session until one is set).
    pub journal: Arc<Mutex<Journal>>,
    /// Fetch an inventory the first time its tab is shown (otherwise only on Refresh).
    pub auto_refresh: bool,
}

impl Shared {
    /// The cache key of the rows of `service` (and ESA site) from `scope`: one inventory per
    /// profile and region.
    pub fn cache_key(&self, scope: ScopeId, service: Service, site_id: Option<i64>) -> CacheKey {
        CacheKey {
            account: self
                .workspace
                .scope(scope)
                .map_or_else(|| "none".to_string(), Scope::cache_account),
            service,
            site_id,
        }
    }

    /// Who changes things in `scope`: its profile.
    pub fn principal(&self, scope: ScopeId) -> Principal {
        match self.workspace.scope(scope) {
            Some(s) => {
                Principal::for_signer(s.profile.clone(), self.source.signer(scope, s.provider))
            }
            None => Principal::profile("none"),
        }
    }

    /// Who changes things in `provider`'s cloud when no row says which account (KMS create).
    pub fn principal_for(&self, provider: Provider) -> Principal {
        match self
            .workspace
            .scopes
            .iter()
            .position(|s| s.provider == provider)
        {
            Some(i) => self.principal(ScopeId::try_from(i).unwrap_or(ScopeId::MAX)),
            None => Principal::profile("none"),
        }
    }
}

/// A feature's view of the app while it handles an action or an event.
pub struct Cx<'a, E> {
    /// What every feature reads.
    pub shared: &'a Shared,
    /// The notice area.
    pub notices: &'a mut Notices,
    /// Background work whose results come back as the feature's events.
    pub tasks: &'a Spawner<E>,
    /// Background work whose only result is a notice (cache writes, saved files).
    pub quiet: &'a Spawner<Option<Notice>>,
}

impl<E: Send + 'static> Cx<'_, E> {
    /// Adds a message to the notice area.
    pub fn notice(&mut self, level: NoticeLevel, text: impl Into<String>) {
        self.notices.push(level, text);
    }

    /// Runs a cache write on a worker; a failure becomes a notice.
    pub fn persist(
        &self,
        write: impl FnOnce(&mut Store) -> Result<(), StoreError> + Send + 'static,
    ) {
        persist(self.shared, self.quiet, write);
    }

    /// The same context for the events of another type (a sub-feature's).
    pub fn with_tasks<'b, F>(&'b mut self, tasks: &'b Spawner<F>) -> Cx<'b, F> {
        Cx {
            shared: self.shared,
            notices: self.notices,
            tasks,
            quiet: self.quiet,
        }
    }
}

/// Runs a cache write on a worker; a failure becomes a notice.
pub fn persist(
    shared: &Shared,
    quiet: &Spawner<Option<Notice>>,
    write: impl FnOnce(&mut Store) -> Result<(), StoreError> + Send + 'static,
) {
    let Some(store) = shared.store.clone() else {
        return;
    };
    quiet.spawn_blocking(move || {
        let result = match store.lock() {
            Ok(mut s) => write(&mut s),
            Err(_) => return Some(Notice::error("the cache is unavailable")),
        };
        result
            .err()
            .map(|e| Notice::error(format!("Updating the cache failed: {e}")))
    });
}
