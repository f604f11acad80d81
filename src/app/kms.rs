//! The KMS feature: the certificate ids certdesk knows (KMS has no list call: ids are remembered
//! per account in the cache, added by pasting or by creating a certificate), and the create form
//! (CreateCertificate, audited like every change; its CSR can be saved to a file). The KMS pane
//! itself is an inventory like the others: the app hands it the known ids. Knows nothing of egui.

use super::context::{Cx, Notice, NoticeLevel, now_unix};
use super::source::{KmsCreateRequest, KmsCreated, KmsKeySpec};
use crate::jobs::BulkItem;
use crate::model::{Change, Error, Provider, Service};
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

/// KMS-specific state: the ids certdesk knows and the create flow.
#[derive(Debug, Clone, Default)]
pub struct KmsState {
    /// Known certificate ids (KMS has no list call).
    pub known_ids: Arc<Vec<String>>,
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
}

/// Finished background work of the KMS feature.
pub(crate) enum KmsEvent {
    /// Known ids from the cache.
    Ids(Result<Vec<String>, String>),
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
    fn account(cx: &Cx<'_, KmsEvent>) -> String {
        cx.shared
            .workspace
            .account_for(Provider::Alibaba)
            .to_string()
    }

    /// Reads the known ids of the workspace's Alibaba account from the cache.
    pub(crate) fn load_ids(&mut self, cx: Ctx<'_, '_>) {
        let Some(store) = cx.shared.store.clone() else {
            return;
        };
        let account = Self::account(cx);
        self.ids_loading = true;
        cx.tasks.spawn_blocking(move || {
            let ids = match store.lock() {
                Ok(s) => s.kms_ids(&account).map_err(|e| e.to_string()),
                Err(_) => Err("the cache is unavailable".to_string()),
            };
            KmsEvent::Ids(ids)
        });
    }

    /// Adds the ids in the paste box.
    pub(crate) fn add_pasted(&mut self, cx: Ctx<'_, '_>) -> KmsIdsChanged {
        let ids: Vec<String> = self
            .paste
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if ids.is_empty() {
            return KmsIdsChanged::No;
        }
        self.paste.clear();
        self.remember(ids, cx)
    }

    fn remember(&mut self, ids: Vec<String>, cx: Ctx<'_, '_>) -> KmsIdsChanged {
        let mut known: Vec<String> = self.known_ids.to_vec();
        let before = known.len();
        for id in &ids {
            if !known.contains(id) {
                known.push(id.clone());
            }
        }
        let added = known.len() - before;
        self.known_ids = Arc::new(known);
        let account = Self::account(cx);
        cx.persist(move |s| s.add_kms_ids(&account, &ids, now_unix()).map(|_| ()));
        cx.notice(
            NoticeLevel::Info,
            format!("{added} KMS certificate id(s) added"),
        );
        KmsIdsChanged::Yes { fetch: true }
    }

    /// Forgets an id (and its row).
    pub(crate) fn forget(&mut self, id: String, cx: Ctx<'_, '_>) -> KmsIdsChanged {
        self.known_ids = Arc::new(
            self.known_ids
                .iter()
                .filter(|k| **k != id)
                .cloned()
                .collect(),
        );
        let account = Self::account(cx);
        let forgotten = id.clone();
        cx.persist(move |s| s.remove_kms_id(&account, &forgotten).map(|_| ()));
        KmsIdsChanged::Forgotten(id)
    }

    /// A certificate was deleted by a change: certdesk stops describing it.
    pub(crate) fn deleted(&mut self, id: &str, cx: Ctx<'_, '_>) {
        if self.known_ids.iter().any(|k| k == id) {
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
        self.form_error = None;
        self.creating = true;
        self.created = None;
        let item = BulkItem {
            service: Service::Kms,
            id: request.subject.clone(),
            site_id: None,
            name: request.subject.clone(),
        };
        let mut entry = crate::jobs::single::audit_entry(
            &cx.shared.principal(Provider::Alibaba),
            &item,
            Change::CreateCertificate,
        );
        entry.message = Some(format!("key spec {}", request.key_spec.api_name()));
        let journal = Arc::clone(&cx.shared.journal);
        let source = Arc::clone(&cx.shared.source);
        cx.tasks.spawn(async move {
            let call = async move { source.kms_create(request).await };
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
            KmsEvent::Ids(result) => {
                self.ids_loading = false;
                match result {
                    Ok(ids) => self.known_ids = Arc::new(ids),
                    Err(e) => cx.notice(
                        NoticeLevel::Error,
                        format!("Reading the known KMS ids failed: {e}"),
                    ),
                }
                KmsIdsChanged::Yes { fetch: false }
            }
            KmsEvent::Created(result) => {
                self.creating = false;
                let changed = match &result {
                    Ok(created) => self.remember(vec![created.certificate_id.clone()], cx),
                    Err(_) => KmsIdsChanged::No,
                };
                self.created = Some(result);
                changed
            }
        }
    }
}
