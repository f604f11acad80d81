//! The KMS feature: the certificate ids certdesk knows (KMS has no list call: ids are remembered
//! per account in the cache, added by pasting or by creating a certificate), and the create form
//! (CreateCertificate, audited like every change; its CSR can be saved to a file). The KMS pane
//! itself is an inventory like the others: the app hands it the known ids. Knows nothing of egui.

use super::context::{Cx, Notice, NoticeLevel, ScopeId, Workspace, now_unix};
use super::source::{KmsCreateRequest, KmsCreated, KmsKeySpec};
use crate::jobs::BulkItem;
use crate::model::{Change, Error, Service};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The KMS create form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsCreateForm {
    /// Country (C), two letters.
    pub country: String,
    /// Organisation (O).
    pub organization: String,
    /// Organisational unit (OU).
    pub unit: String,
    /// Common name (CN).
    pub common_name: String,
    /// Key spec.
    pub key_spec: KmsKeySpec,
    /// DNS names, one per line or comma-separated.
    pub sans: String,
    /// Private key exportable.
    pub exportable: bool,
}

impl Default for KmsCreateForm {
    fn default() -> Self {
        KmsCreateForm {
            country: "CN".into(),
            organization: String::new(),
            unit: String::new(),
            common_name: String::new(),
            key_spec: KmsKeySpec::default(),
            sans: String::new(),
            exportable: true,
        }
    }
}

impl KmsCreateForm {
    /// The request, or what is missing. KMS requires C, O, OU and CN.
    pub fn request(&self) -> Result<KmsCreateRequest, String> {
        let fields = [
            ("C", self.country.trim()),
            ("O", self.organization.trim()),
            ("OU", self.unit.trim()),
            ("CN", self.common_name.trim()),
        ];
        let missing: Vec<&str> = fields
            .iter()
            .filter(|(_, v)| v.is_empty())
            .map(|(k, _)| *k)
            .collect();
        if !missing.is_empty() {
            return Err(format!("fill in {}", missing.join(", ")));
        }
        if let Some((k, _)) = fields.iter().find(|(_, v)| v.contains([',', '='])) {
            return Err(format!("{k} must not contain ',' or '='"));
        }
        let sans: Vec<String> = self
            .sans
            .split([',', '\n', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if sans.len() > 10 {
            return Err("KMS accepts at most 10 subject alternative names".into());
        }
        Ok(KmsCreateRequest {
            subject: fields
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(","),
            key_spec: self.key_spec,
            sans,
            exportable: self.exportable,
        })
    }
}

/// KMS-specific state: the ids certdesk knows (per account and region) and the create flow.
#[derive(Debug, Clone, Default)]
pub struct KmsState {
    /// Known certificate ids of each KMS account and region (KMS has no list call).
    pub known_ids: BTreeMap<ScopeId, Arc<Vec<String>>>,
    /// Where pasted ids and created certificates go (`None`: the first KMS account and region).
    pub target: Option<ScopeId>,
    /// The known ids are being read from the cache.
    pub ids_loading: bool,
    /// The "add ids" text box.
    pub paste: String,
    /// The create form.
    pub form: KmsCreateForm,
    /// Why the form cannot be sent.
    pub form_error: Option<String>,
    /// A create call is running.
    pub creating: bool,
    /// The last create result.
    pub created: Option<Result<KmsCreated, Error>>,
    /// Where the last create ran.
    created_in: Option<ScopeId>,
}

/// Finished background work of the KMS feature.
pub(crate) enum KmsEvent {
    /// Known ids from the cache, per account and region.
    Ids(Vec<(ScopeId, Result<Vec<String>, String>)>),
    /// CreateCertificate finished.
    Created(Result<KmsCreated, Error>),
}

/// What the app must pass on to the KMS pane after a KMS action or event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KmsIdsChanged {
    /// Nothing.
    No,
    /// The known ids changed (or arrived): the pane walks the new list.
    Yes {
        /// Walk them now.
        fetch: bool,
    },
    /// An id was forgotten: its row goes.
    Forgotten(String),
}

type Ctx<'a, 'b> = &'a mut Cx<'b, KmsEvent>;

impl KmsState {
    /// Every known id, of every account and region.
    pub fn known_count(&self) -> usize {
        self.known_ids.values().map(|ids| ids.len()).sum()
    }

    /// Where pasted ids and created certificates go.
    pub fn target_scope(&self, workspace: &Workspace) -> Option<ScopeId> {
        let scopes = workspace.scopes_for(Service::Kms);
        self.target
            .filter(|t| scopes.contains(t))
            .or_else(|| scopes.first().copied())
    }

    fn cache_account(cx: &Cx<'_, KmsEvent>, scope: ScopeId) -> String {
        cx.shared
            .workspace
            .scope(scope)
            .map_or_else(|| "none".to_string(), crate::model::Scope::cache_account)
    }

    /// Reads the known ids of every KMS account and region from the cache.
    pub(crate) fn load_ids(&mut self, cx: Ctx<'_, '_>) {
        let Some(store) = cx.shared.store.clone() else {
            return;
        };
        let accounts: Vec<(ScopeId, String)> = cx
            .shared
            .workspace
            .scopes_for(Service::Kms)
            .into_iter()
            .map(|s| (s, Self::cache_account(cx, s)))
            .collect();
        self.ids_loading = true;
        cx.tasks.spawn_blocking(move || {
            KmsEvent::Ids(
                accounts
                    .into_iter()
                    .map(|(scope, account)| {
                        let ids = match store.lock() {
                            Ok(s) => s.kms_ids(&account).map_err(|e| e.to_string()),
                            Err(_) => Err("the cache is unavailable".to_string()),
                        };
                        (scope, ids)
                    })
                    .collect(),
            )
        });
    }

    /// Adds the ids in the paste box (to the target account and region).
    pub(crate) fn add_pasted(&mut self, cx: Ctx<'_, '_>) -> KmsIdsChanged {
        let ids: Vec<String> = self
            .paste
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let Some(scope) = self.target_scope(&cx.shared.workspace) else {
            cx.notice(
                NoticeLevel::Error,
                "No Alibaba Cloud account in this workspace: add a profile in Settings.",
            );
            return KmsIdsChanged::No;
        };
        if ids.is_empty() {
            return KmsIdsChanged::No;
        }
        self.paste.clear();
        self.remember(scope, ids, cx)
    }

    fn remember(&mut self, scope: ScopeId, ids: Vec<String>, cx: Ctx<'_, '_>) -> KmsIdsChanged {
        let mut known: Vec<String> = self
            .known_ids
            .get(&scope)
            .map(|k| k.to_vec())
            .unwrap_or_default();
        let before = known.len();
        for id in &ids {
            if !known.contains(id) {
                known.push(id.clone());
            }
        }
        let added = known.len() - before;
        self.known_ids.insert(scope, Arc::new(known));
        let account = Self::cache_account(cx, scope);
        cx.persist(move |s| s.add_kms_ids(&account, &ids, now_unix()).map(|_| ()));
        cx.notice(
            NoticeLevel::Info,
            format!("{added} KMS certificate id(s) added"),
        );
        KmsIdsChanged::Yes { fetch: true }
    }

    /// Forgets an id (and its row), wherever it is known.
    pub(crate) fn forget(&mut self, id: String, cx: Ctx<'_, '_>) -> KmsIdsChanged {
        let scopes: Vec<ScopeId> = self
            .known_ids
            .iter()
            .filter(|(_, ids)| ids.contains(&id))
            .map(|(s, _)| *s)
            .collect();
        for scope in scopes {
            if let Some(ids) = self.known_ids.get_mut(&scope) {
                *ids = Arc::new(ids.iter().filter(|k| **k != id).cloned().collect());
            }
            let account = Self::cache_account(cx, scope);
            let forgotten = id.clone();
            cx.persist(move |s| s.remove_kms_id(&account, &forgotten).map(|_| ()));
        }
        KmsIdsChanged::Forgotten(id)
    }

    /// A certificate was deleted by a change: certdesk stops describing it.
    pub(crate) fn deleted(&mut self, id: &str, cx: Ctx<'_, '_>) {
        if self
            .known_ids
            .values()
            .any(|ids| ids.iter().any(|k| k == id))
        {
            self.forget(id.to_string(), cx);
        }
    }

    /// Edits the create form.
    pub(crate) fn set_form(&mut self, form: KmsCreateForm) {
        self.form = form;
        self.form_error = None;
    }

    /// Sends the create form, audited (the new certificate's id is in the entry's answer).
    pub(crate) fn create(&mut self, cx: Ctx<'_, '_>) {
        let request = match self.form.request() {
            Err(e) => {
                self.form_error = Some(e);
                return;
            }
            Ok(request) => request,
        };
        let Some(scope) = self.target_scope(&cx.shared.workspace) else {
            self.form_error = Some(
                "no Alibaba Cloud account in this workspace: add a profile in Settings".into(),
            );
            return;
        };
        self.form_error = None;
        self.creating = true;
        self.created = None;
        self.created_in = Some(scope);
        let item = BulkItem {
            service: Service::Kms,
            id: request.subject.clone(),
            site_id: None,
            name: request.subject.clone(),
        };
        let mut entry = crate::jobs::single::audit_entry(
            &cx.shared.principal(scope),
            &item,
            Change::CreateCertificate,
        );
        entry.message = Some(format!("key spec {}", request.key_spec.api_name()));
        let journal = Arc::clone(&cx.shared.journal);
        let source = Arc::clone(&cx.shared.source);
        cx.tasks.spawn(async move {
            let call = async move { source.kms_create(scope, request).await };
            let result = crate::jobs::single::audited(journal, entry, call)
                .await
                .map(|(created, _)| created);
            KmsEvent::Created(result)
        });
    }

    /// Writes the last CSR to a file chosen in a dialog.
    pub(crate) fn save_csr(&self, cx: Ctx<'_, '_>) {
        let Some(Ok(created)) = &self.created else {
            return;
        };
        let csr = created.csr.clone();
        let file_name = format!("{}.csr", created.certificate_id);
        cx.quiet.spawn(async move {
            let handle = rfd::AsyncFileDialog::new()
                .set_file_name(&file_name)
                .add_filter("Certificate request", &["csr", "pem"])
                .save_file()
                .await?;
            let path = handle.path().to_path_buf();
            Some(match tokio::fs::write(&path, csr.as_bytes()).await {
                Ok(()) => Notice::info(format!("CSR saved to {}", path.display())),
                Err(e) => {
                    Notice::error(format!("Saving the CSR to {} failed: {e}", path.display()))
                }
            })
        });
    }

    /// Applies a result of background work.
    pub(crate) fn handle(&mut self, event: KmsEvent, cx: Ctx<'_, '_>) -> KmsIdsChanged {
        match event {
            KmsEvent::Ids(results) => {
                self.ids_loading = false;
                for (scope, result) in results {
                    match result {
                        Ok(ids) => {
                            self.known_ids.insert(scope, Arc::new(ids));
                        }
                        Err(e) => cx.notice(
                            NoticeLevel::Error,
                            format!("Reading the known KMS ids failed: {e}"),
                        ),
                    }
                }
                KmsIdsChanged::Yes { fetch: false }
            }
            KmsEvent::Created(result) => {
                self.creating = false;
                let changed = match (&result, self.created_in) {
                    (Ok(created), Some(scope)) => {
                        self.remember(scope, vec![created.certificate_id.clone()], cx)
                    }
                    _ => KmsIdsChanged::No,
                };
                self.created = Some(result);
                changed
            }
        }
    }
}
