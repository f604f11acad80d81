//! The import dialog in the real app (real clients, signing and HTTP) against the in-process
//! simulator, driven headless by egui_kittest: files arrive the way a drop on the window (or the
//! native file dialog) delivers them, the checks show, a VOD domain's certificate is replaced and
//! the simulator then serves it; bad inputs say why and send nothing; KMS uploads must match the
//! certificate request.
#![allow(clippy::unwrap_used)] // test setup: a failure should panic right there

mod gui_support;

use certdesk::app::import_flow::{FileStatus, ImportStage};
use certdesk::app::workspace::demo_state;
use certdesk::app::{Action, ImportAction, ImportPurpose, KmsCreateForm, KmsKeySpec, PaneKey, Tab};
use certdesk::model::Service;
use certdesk::store::Store;
use certdesk::store::journal::{AuditEntry, Journal};
use certdesk::ui::dialogs::import::DROP_HINT;
use eframe::egui;
use egui_kittest::kittest::{NodeT, Queryable};
use gui_support::SimGui;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The shared window plus the audit journal it writes to and a scratch directory.
struct Gui {
    window: SimGui,
    journal: Arc<Mutex<Journal>>,
    dir: tempfile::TempDir,
}

impl std::ops::Deref for Gui {
    type Target = SimGui;
    fn deref(&self) -> &SimGui {
        &self.window
    }
}

impl std::ops::DerefMut for Gui {
    fn deref_mut(&mut self) -> &mut SimGui {
        &mut self.window
    }
}

fn gui() -> Gui {
    let journal = Arc::new(Mutex::new(Journal::in_memory().unwrap()));
    let mut window = gui_support::start(egui::vec2(1500.0, 1000.0), |sim, transport, runtime| {
        let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
        let mut state = demo_state(sim, Some(store), transport, runtime, None);
        state.set_journal(Arc::clone(&journal));
        state
    });
    // Enough frames for the dialog's open animations (collapsing sections) to finish, so clicks
    // land where the widgets are.
    window.settle_frames = 20;
    Gui {
        window,
        journal,
        dir: tempfile::tempdir().unwrap(),
    }
}

/// A dropped file the way the windowing backend hands it to egui.
#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// A CA and a leaf for `domain` signed by it (valid from `start_days_ago` for a year).
struct Issued {
    leaf_and_chain: String,
    key: String,
    sha256: String,
}

fn ca() -> (rcgen::Certificate, rcgen::KeyPair) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "gui test CA");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    (params.self_signed(&key).unwrap(), key)
}

fn issue(domain: &str, start_days_ago: i64) -> Issued {
    let (ca, ca_key) = ca();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec![domain.to_string()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, domain);
    let start = time::OffsetDateTime::now_utc() - time::Duration::days(start_days_ago);
    params.not_before = start;
    params.not_after = start + time::Duration::days(365);
    let leaf = params.signed_by(&key, &ca, &ca_key).unwrap();
    let sha256 = certdesk::certs::parse_first_pem(&leaf.pem())
        .unwrap()
        .sha256
        .colon_hex();
    Issued {
        leaf_and_chain: format!("{}{}", leaf.pem(), ca.pem()),
        key: key.serialize_pem(),
        sha256,
    }
}

/// The public key of a CSR, so a test CA can certify it (what the admin's CA does).
struct CsrKey(Vec<u8>);

impl rcgen::PublicKeyData for CsrKey {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }
    fn algorithm(&self) -> &rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

fn sign_csr(csr: &str) -> String {
    let (ca, ca_key) = ca();
    let key = CsrKey(certdesk::import::csr_public_key(csr).unwrap());
    let mut params =
        rcgen::CertificateParams::new(vec!["signed.certdesk-demo.com".to_string()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "signed.certdesk-demo.com");
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    format!("{}{}", cert.pem(), ca.pem())
}

impl Gui {
    /// The audit log the window writes to.
    fn audit(&self) -> Vec<AuditEntry> {
        self.journal.lock().unwrap().audit(None).unwrap()
    }

    fn act(&mut self, action: Action) {
        self.harness.state_mut().state.apply(action);
        self.settle();
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn drop_files(&mut self, paths: &[PathBuf]) {
        self.harness.input_mut().dropped_files = paths
            .iter()
            .map(|p| Arc::new(Dropped(p.clone())) as egui::DroppedFileHandle)
            .collect();
        self.settle();
    }

    fn click(&mut self, label: &str) {
        self.harness.get_by_label(label).click();
        self.settle();
    }

    fn is_enabled(&self, label: &str) -> bool {
        !self
            .harness
            .get_by_label(label)
            .accesskit_node()
            .is_disabled()
    }

    fn shows(&self, text: &str) -> bool {
        self.harness.query_by_label_contains(text).is_some()
    }

    /// Every way to send, the buttons aside: the state machine must refuse too.
    fn force_send(&mut self) {
        self.act(Action::Import(ImportAction::RequestSend));
        self.act(Action::Import(ImportAction::ConfirmSend));
    }

    fn open_domain(&mut self, domain: &str) {
        self.click("CDN domains");
        self.harness
            .get_all_by_label(domain)
            .next()
            .unwrap()
            .click();
        self.settle();
        self.click("Replace certificate…");
        assert_eq!(
            self.app().import.flow.as_ref().unwrap().purpose,
            ImportPurpose::VodReplace {
                id: domain.into(),
                domain: domain.into()
            }
        );
    }
}

#[test]
fn dropped_files_replace_a_vod_certificate_that_the_simulator_then_serves() {
    let mut g = gui();
    let domain = "media.certdesk-demo.com";
    assert_eq!(g.sim.vod_ssl(domain).unwrap().ssl_protocol, "off");
    g.open_domain(domain);

    // Files hovering over the window show the drop hint.
    g.harness
        .input_mut()
        .hovered_files
        .push(egui::HoveredFile::default());
    g.harness.run_steps(2);
    assert!(g.shows(DROP_HINT));
    g.harness.input_mut().hovered_files.clear();
    g.harness.run_steps(2);
    assert!(!g.shows(DROP_HINT));

    let issued = issue(domain, 1);
    let cert = g.write("media-chain.pem", &issued.leaf_and_chain);
    let key = g.write("media.key", &issued.key);
    g.drop_files(&[cert, key]);
    assert!(g.shows("2 certificates"));
    assert!(g.shows("private key (EC P-256"));
    assert!(g.shows(&format!("{domain} is covered")));
    assert!(g.shows("links verified, ends at root gui test CA"));
    assert!(g.shows(&issued.sha256), "SHA-256 of the leaf shown");
    assert!(g.shows("Chain (leaf first): media.certdesk-demo.com > gui test CA"));
    assert_eq!(
        g.sim.mutation_requests("SetVodDomainCertificate", domain),
        0,
        "nothing sent before the confirmation"
    );

    g.harness.check_accessibility();
    g.click("Review and replace…");
    assert!(g.shows("switch HTTPS on?"));
    g.click("Yes, replace the certificate");
    let flow = g.app().import.flow.as_ref().unwrap();
    assert!(
        matches!(flow.stage, ImportStage::Done(Ok(_))),
        "{:?}",
        flow.stage
    );
    let cert_name = flow.cert_name.clone();
    assert_eq!(
        g.sim.mutation_requests("SetVodDomainCertificate", domain),
        1
    );
    let served = g.sim.vod_ssl(domain).unwrap();
    assert_eq!(served.ssl_protocol, "on");
    assert_eq!(served.cert_common_name, domain);
    assert_eq!(served.cert_name, cert_name);
    assert_eq!(served.cert_type, "upload");

    // Audited before and after.
    let audit = g.audit();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].result.as_str(), "applied");
    assert_eq!(audit[0].target, domain);
    assert!(audit[0].request_id.is_some());

    // The row and the detail panel show the new certificate.
    g.click("Close");
    assert!(g.app().import.flow.is_none());
    let vod = PaneKey::service(Service::Vod);
    let p = &g.app().inventory.panes[&vod];
    let row = p.inventory.find(domain).unwrap();
    assert!(
        p.inventory.extra(row).contains(&cert_name),
        "{}",
        p.inventory.extra(row)
    );
    assert_eq!(p.inventory.raw_status(row), "on");
    let entry = &g.app().inventory.details[&(vod, domain.to_string())];
    assert_eq!(
        entry
            .parsed
            .as_ref()
            .unwrap()
            .as_ref()
            .unwrap()
            .sha256
            .colon_hex(),
        issued.sha256
    );
    assert!(
        g.shows(&issued.sha256),
        "detail panel shows the new certificate"
    );
    g.harness.check_accessibility();
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

#[test]
fn bad_inputs_show_their_message_and_send_nothing() {
    let mut g = gui();
    let domain = "video.certdesk-demo.com";
    let before = g.sim.vod_ssl(domain).unwrap();
    g.open_domain(domain);
    let remove_all = |g: &mut Gui| {
        let n = g.app().import.flow.as_ref().unwrap().files.len();
        for _ in 0..n {
            g.act(Action::Import(ImportAction::RemoveFile(0)));
        }
        let flow = g.app().import.flow.as_ref().unwrap();
        assert!(flow.files.is_empty(), "still editable: {:?}", flow.stage);
    };

    // Garbage, and other files that are not certificates.
    for (name, says) in [
        (
            "garbage.bin",
            "garbage.bin is binary data that is not a DER certificate",
        ),
        (
            "corrupt-base64.pem",
            "the PEM text is corrupted or truncated",
        ),
        ("empty.pem", "empty.pem is empty"),
        ("ed25519.key", "unsupported key algorithm"),
    ] {
        g.act(Action::Import(ImportAction::AddFiles(vec![fixture(name)])));
        assert!(g.shows(says), "{name}");
        assert!(!g.is_enabled("Review and replace…"));
        g.force_send();
        remove_all(&mut g);
    }

    // A mismatched pair.
    let issued = issue(domain, 1);
    let other = issue(domain, 1);
    let cert = g.write("video.pem", &issued.leaf_and_chain);
    let other_key = g.write("other.key", &other.key);
    g.act(Action::Import(ImportAction::AddFiles(vec![
        cert.clone(),
        other_key,
    ])));
    assert!(g.shows("does not belong to video.certdesk-demo.com"));
    assert!(!g.is_enabled("Review and replace…"));
    g.force_send();
    remove_all(&mut g);

    // A certificate for another name.
    g.act(Action::Import(ImportAction::AddFiles(vec![
        fixture("leaf.pem"),
        fixture("leaf.key"),
    ])));
    assert!(g.shows("video.certdesk-demo.com is not among the certificate's names"));
    g.force_send();
    remove_all(&mut g);

    // An expired certificate: a warning that needs the override.
    let old = issue(domain, 500);
    let old_cert = g.write("old.pem", &old.leaf_and_chain);
    let old_key = g.write("old.key", &old.key);
    g.act(Action::Import(ImportAction::AddFiles(vec![
        old_cert, old_key,
    ])));
    assert!(g.shows("sending it needs the explicit override"));
    assert!(g.shows("warning"));
    assert!(!g.is_enabled("Review and replace…"));
    g.force_send();
    g.harness
        .get_by_label_contains("Send it anyway: I know the certificate is expired")
        .click();
    g.settle();
    assert!(g.app().import.flow.as_ref().unwrap().allow_expired);
    assert!(g.is_enabled("Review and replace…"));
    g.act(Action::Import(ImportAction::SetAllowExpired(false)));

    assert_eq!(
        g.sim.mutation_requests("SetVodDomainCertificate", domain),
        0
    );
    assert_eq!(g.sim.vod_ssl(domain).unwrap(), before);
    assert!(g.audit().is_empty());
}

#[test]
fn an_encrypted_key_asks_for_its_passphrase_in_the_dialog() {
    let mut g = gui();
    g.act(Action::Import(ImportAction::AddFiles(vec![
        fixture("leaf.pem"),
        fixture("leaf-encrypted.key"),
    ])));
    assert!(g.shows("leaf-encrypted.key is encrypted: enter its passphrase"));
    g.harness.get_by_label("Passphrase").click();
    g.harness.run_steps(1);
    g.harness.get_by_label("Passphrase").type_text("wrong");
    g.settle();
    g.click("Unlock");
    assert!(g.shows("leaf-encrypted.key: wrong passphrase"));
    let flow = g.app().import.flow.as_ref().unwrap();
    assert_eq!(flow.passphrase.expose(), "wrong");
    g.act(Action::Import(ImportAction::SetPassphrase(
        "correct-horse".into(),
    )));
    g.click("Unlock");
    let flow = g.app().import.flow.as_ref().unwrap();
    assert!(
        flow.files
            .iter()
            .all(|f| matches!(f.status, FileStatus::Read(_))),
        "{:?}",
        flow.files
    );
    assert!(g.shows("key matches certificate"));
    assert!(!g.shows("correct-horse"), "the passphrase is never shown");
}

#[test]
fn a_kms_signed_certificate_is_uploaded_only_when_it_matches_the_csr() {
    let mut g = gui();
    // Overview is the first tab; the upload is offered on the KMS tab's rows.
    g.act(Action::SelectTab(Tab::Kms));
    let create = |g: &mut Gui, cn: &str| {
        g.act(Action::SetKmsForm(KmsCreateForm {
            organization: "certdesk".into(),
            unit: "tests".into(),
            common_name: cn.into(),
            key_spec: KmsKeySpec::EcP256,
            ..KmsCreateForm::default()
        }));
        g.act(Action::CreateKmsCertificate);
        let created = g.app().kms.created.clone().unwrap().unwrap();
        (created.certificate_id, created.csr)
    };
    let (id, csr) = create(&mut g, "upload-ok.certdesk-demo.com");
    assert_eq!(g.sim.kms_status(&id).as_deref(), Some("PENDING"));

    // The PENDING row offers the upload.
    g.harness
        .get_all_by_label("upload-ok.certdesk-demo.com")
        .next()
        .unwrap()
        .click();
    g.settle();
    g.click("Upload signed certificate…");
    let signed = g.write("signed.pem", &sign_csr(&csr));
    g.act(Action::Import(ImportAction::AddFiles(vec![signed])));
    assert!(g.shows("carries the public key of the certificate request"));
    g.click("Review and upload…");
    g.click("Yes, upload the certificate");
    assert_eq!(g.sim.mutation_requests("UploadCertificate", &id), 1);
    assert_eq!(g.sim.kms_status(&id).as_deref(), Some("ACTIVE"));
    g.click("Close");

    // Another certificate's request: the key differs, nothing is sent.
    let (id2, _) = create(&mut g, "upload-bad.certdesk-demo.com");
    g.act(Action::Import(ImportAction::Open(
        ImportPurpose::KmsUpload {
            certificate_id: id2.clone(),
        },
    )));
    let wrong = g.write("wrong.pem", &sign_csr(&csr));
    g.act(Action::Import(ImportAction::AddFiles(vec![wrong])));
    assert!(g.shows("was not issued for this certificate request"));
    assert!(!g.is_enabled("Review and upload…"));
    g.force_send();
    assert_eq!(g.sim.mutation_requests("UploadCertificate", &id2), 0);
    assert_eq!(g.sim.kms_status(&id2).as_deref(), Some("PENDING"));
}

#[test]
fn a_typed_path_adds_the_file_where_no_file_chooser_runs() {
    let mut g = gui();
    g.click("Inspect files…");
    assert!(!g.is_enabled("Add"), "nothing typed yet");
    g.harness.get_by_label("Path").click();
    g.harness.run_steps(1);
    let path = fixture("leaf.pem");
    g.harness
        .get_by_label("Path")
        .type_text(&format!("\"{}\"", path.display()));
    g.settle();
    assert!(g.is_enabled("Add"));
    g.click("Add");
    let flow = g.app().import.flow.as_ref().unwrap();
    assert_eq!(flow.typed_path, "");
    assert_eq!(flow.files.len(), 1);
    assert_eq!(flow.files[0].path, path);
    assert!(
        matches!(&flow.files[0].status, FileStatus::Read(s) if s.contains("certificate")),
        "{:?}",
        flow.files[0].status
    );
    assert!(
        g.harness
            .query_all_by_label_contains("leaf.pem")
            .next()
            .is_some()
    );
}
