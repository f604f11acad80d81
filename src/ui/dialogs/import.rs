//! The one import dialog every tab uses: files from the native file dialog or dropped on the
//! window, the passphrase of encrypted keys and PKCS#12 files, an inspection of what was read
//! (subject, issuer, SANs, serial, validity, fingerprints, key, chain order), the checks with
//! their verdicts, the expiry override, and the confirmation before anything is sent. Draws
//! `app::import_flow` state and returns actions; reads no file and sends nothing itself.

use crate::app::import_flow::{FileStatus, ImportFlow, ImportStage};
use crate::app::{Action, AppState, ImportAction, ImportPurpose, now_unix};
use crate::certs::CertificateInfo;
use crate::credentials::Secret;
use crate::import::Verdict;
use crate::ui::style::CHECK_PASSED;
use crate::ui::widgets::detail_panel::certificate_facts;
use crate::ui::widgets::{busy, error_details};
use eframe::egui::{self, RichText};
use zeroize::Zeroizing;

/// Text of the hint shown while files are dragged over the window.
pub const DROP_HINT: &str = "Drop certificate, key or PKCS#12 files to import them";

/// The drop target: a visible hint while files hover over the window, and
/// [`ImportAction::AddFiles`] for what is dropped.
pub fn drop_target(ctx: &egui::Context, actions: &mut Vec<Action>) {
    let (hovering, dropped) = ctx.input(|i| {
        (
            !i.raw.hovered_files.is_empty(),
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect::<Vec<_>>(),
        )
    });
    if hovering {
        let rect = ctx.content_rect();
        egui::Area::new(egui::Id::unique("import_drop_hint"))
            .order(egui::Order::Foreground)
            .fixed_pos(rect.min)
            .interactable(false)
            .show(ctx, |ui| {
                egui::Frame::new()
                    .fill(egui::Color32::from_black_alpha(190))
                    .show(ui, |ui| {
                        ui.set_min_size(rect.size());
                        ui.centered_and_justified(|ui| {
                            ui.label(
                                RichText::new(DROP_HINT)
                                    .size(22.0)
                                    .color(egui::Color32::WHITE),
                            );
                        });
                    });
            });
    }
    if !dropped.is_empty() {
        actions.push(Action::Import(ImportAction::AddFiles(dropped)));
    }
}

/// Draws the dialog when one is open.
pub fn show(ctx: &egui::Context, state: &AppState, actions: &mut Vec<Action>) {
    let Some(flow) = &state.import.flow else {
        return;
    };
    let before = actions.len();
    let response = egui::Modal::new(egui::Id::unique("import_dialog")).show(ctx, |ui| {
        ui.set_width(640.0);
        ui.heading(flow.purpose.title());
        let max = (ctx.content_rect().height() - 160.0).max(200.0);
        egui::ScrollArea::vertical()
            .max_height(max)
            .auto_shrink([false, true])
            .show(ui, |ui| match &flow.stage {
                ImportStage::Editing => editing(ui, flow, actions),
                ImportStage::Confirming => confirming(ui, flow),
                ImportStage::Sending => busy(ui, "Sending…"),
                ImportStage::Done(Ok(request_id)) => {
                    ui.label(
                        RichText::new(format!(
                            "Done{}.",
                            request_id
                                .as_ref()
                                .map(|r| format!(" (RequestId {r})"))
                                .unwrap_or_default()
                        ))
                        .strong(),
                    );
                }
                ImportStage::Done(Err(e)) => {
                    ui.label(
                        RichText::new("The upload failed.")
                            .color(ui.visuals().error_fg_color)
                            .strong(),
                    );
                    error_details::show(ui, e);
                }
            });
        ui.separator();
        footer(ui, flow, actions);
    });
    let busy = matches!(flow.stage, ImportStage::Sending | ImportStage::Confirming);
    if response.should_close() && !busy && actions.len() == before {
        actions.push(Action::Import(ImportAction::Close));
    }
}

fn footer(ui: &mut egui::Ui, flow: &ImportFlow, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| match &flow.stage {
        ImportStage::Editing => {
            if let Some(label) = flow.purpose.send_label() {
                let blocker = flow.blocker();
                let button = ui.add_enabled(blocker.is_none(), egui::Button::new(label));
                if button.clicked() {
                    actions.push(Action::Import(ImportAction::RequestSend));
                }
                if let Some(why) = blocker {
                    ui.weak(format!("Cannot send yet: {why}"));
                }
            }
            if ui.button("Close").clicked() {
                actions.push(Action::Import(ImportAction::Close));
            }
        }
        ImportStage::Confirming => {
            if ui.button(flow.purpose.confirm_label()).clicked() {
                actions.push(Action::Import(ImportAction::ConfirmSend));
            }
            if ui.button("Back").clicked() {
                actions.push(Action::Import(ImportAction::BackToEdit));
            }
        }
        ImportStage::Sending => {}
        ImportStage::Done(_) => {
            if ui.button("Close").clicked() {
                actions.push(Action::Import(ImportAction::Close));
            }
        }
    });
}

fn confirming(ui: &mut egui::Ui, flow: &ImportFlow) {
    let Some(leaf) = flow.leaf() else {
        return;
    };
    let name = leaf
        .info
        .common_name
        .clone()
        .unwrap_or_else(|| leaf.info.subject.clone());
    match &flow.purpose {
        ImportPurpose::VodReplace { domain, .. } => {
            ui.label(format!(
                "Replace the certificate of {domain} with “{name}” (named “{}”) and its private key, and switch HTTPS on?",
                flow.cert_name.trim()
            ));
            ui.label("SetVodDomainCertificate takes effect on the CDN within minutes.");
        }
        ImportPurpose::KmsUpload { certificate_id } => {
            ui.label(format!(
                "Upload “{name}” with {} chain certificate(s) as the signed certificate of KMS {certificate_id}? Its status becomes ACTIVE.",
                flow.chain.as_ref().map_or(0, |c| c.order.len().saturating_sub(1))
            ));
        }
        ImportPurpose::Inspect => {}
    }
    ui.monospace(format!("SHA-256 {}", leaf.info.sha256.colon_hex()));
    for c in flow.checks.iter().filter(|c| c.verdict == Verdict::Warn) {
        ui.label(
            RichText::new(format!("Warning — {}: {}", c.name, c.detail))
                .color(ui.visuals().warn_fg_color),
        );
    }
}

/// Shown after the file dialog returned no file: it may never have appeared.
pub const NOTHING_PICKED_HINT: &str = "No file chosen. If no file chooser appeared (on Linux it needs xdg-desktop-portal or zenity), type or paste the path above, or drop the files on the window.";

fn editing(ui: &mut egui::Ui, flow: &ImportFlow, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        if ui
            .button("Add files…")
            .on_hover_text("Choose certificate, chain, key or PKCS#12 files")
            .clicked()
        {
            actions.push(Action::Import(ImportAction::PickFiles));
        }
        ui.weak("or drop them on the window. A certificate and its key, or one bundle.");
    });
    ui.horizontal(|ui| {
        let label = ui.label("Path");
        let mut text = flow.typed_path.clone();
        let field = ui
            .add(
                egui::TextEdit::singleline(&mut text)
                    .hint_text("type or paste a file's path")
                    .desired_width(360.0),
            )
            .labelled_by(label.id);
        if field.changed() {
            actions.push(Action::Import(ImportAction::SetTypedPath(text.clone())));
        }
        let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let add = ui.add_enabled(!text.trim().is_empty(), egui::Button::new("Add"));
        if (entered || add.clicked()) && !text.trim().is_empty() {
            actions.push(Action::Import(ImportAction::AddTypedPath));
        }
    });
    if flow.nothing_picked {
        ui.weak(NOTHING_PICKED_HINT);
    }
    files(ui, flow, actions);
    if flow.needs_passphrase() {
        passphrase(ui, flow, actions);
    }
    if matches!(flow.purpose, ImportPurpose::VodReplace { .. }) {
        ui.horizontal(|ui| {
            let l = ui.label("Certificate name");
            let mut name = flow.cert_name.clone();
            if ui
                .add(
                    egui::TextEdit::singleline(&mut name)
                        .hint_text("shown in the VOD console, at most 128 characters")
                        .desired_width(320.0),
                )
                .labelled_by(l.id)
                .changed()
            {
                actions.push(Action::Import(ImportAction::SetCertName(name)));
            }
        });
    }
    if flow.reading || flow.checking {
        busy(
            ui,
            if flow.reading {
                "Reading the files…"
            } else {
                "Checking…"
            },
        );
    }
    inspection(ui, flow);
    checks(ui, flow, actions);
}

fn files(ui: &mut egui::Ui, flow: &ImportFlow, actions: &mut Vec<Action>) {
    if flow.files.is_empty() {
        ui.weak("No files yet.");
        return;
    }
    // Wrapped rows rather than a grid: wrapping labels in a grid inside a modal grow it every frame.
    for (i, file) in flow.files.iter().enumerate() {
        ui.horizontal_wrapped(|ui| {
            if ui
                .small_button(format!("Remove {}", file.name))
                .on_hover_text("Take this file out of the import")
                .clicked()
            {
                actions.push(Action::Import(ImportAction::RemoveFile(i)));
            }
            ui.label(RichText::new(&file.name).strong())
                .on_hover_text(file.path.display().to_string());
            let error = ui.visuals().error_fg_color;
            let warn = ui.visuals().warn_fg_color;
            match &file.status {
                FileStatus::Reading => ui.weak("reading…"),
                FileStatus::Read(what) => ui.label(what),
                FileStatus::NeedsPassphrase(m) => ui.label(RichText::new(m).color(warn)),
                FileStatus::WrongPassphrase(m) | FileStatus::Failed(m) => {
                    ui.label(RichText::new(m).color(error))
                }
            };
        });
    }
}

fn passphrase(ui: &mut egui::Ui, flow: &ImportFlow, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        let l = ui.label("Passphrase");
        // A zeroizing copy: the typed text does not outlive this frame outside the Secret.
        let mut text = Zeroizing::new(flow.passphrase.expose().to_string());
        let edit = ui
            .add(
                egui::TextEdit::singleline(&mut *text)
                    .password(true)
                    .hint_text("of the encrypted key or PKCS#12 file")
                    .desired_width(260.0),
            )
            .labelled_by(l.id);
        if edit.changed() {
            actions.push(Action::Import(ImportAction::SetPassphrase(Secret::new(
                text.as_str(),
            ))));
        }
        let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button("Unlock").clicked() || enter {
            actions.push(Action::Import(ImportAction::Unlock));
        }
    });
}

fn field(ui: &mut egui::Ui, label: &str, value: &str, mono: bool) {
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(format!("{label}:")).strong());
        ui.label(if mono {
            RichText::new(value).monospace()
        } else {
            RichText::new(value)
        });
    });
}

fn label_of(info: &CertificateInfo) -> String {
    info.common_name
        .clone()
        .unwrap_or_else(|| info.subject.clone())
}

fn inspection(ui: &mut egui::Ui, flow: &ImportFlow) {
    let Some(bundle) = &flow.bundle else {
        return;
    };
    let now = now_unix();
    let order: Vec<usize> = match &flow.chain {
        Some(chain) => chain
            .order
            .iter()
            .chain(chain.unrelated.iter())
            .copied()
            .collect(),
        None => (0..bundle.certificates.len()).collect(),
    };
    if let Some(chain) = &flow.chain {
        let names: Vec<String> = chain
            .order
            .iter()
            .filter_map(|&i| bundle.certificates.get(i))
            .map(|c| label_of(&c.info))
            .collect();
        ui.add_space(4.0);
        ui.label(format!("Chain (leaf first): {}", names.join(" > ")));
    }
    for (pos, &i) in order.iter().enumerate() {
        let Some(cert) = bundle.certificates.get(i) else {
            continue;
        };
        let info = &cert.info;
        let role = match &flow.chain {
            Some(c) if c.unrelated.contains(&i) => "not in the chain",
            _ if pos == 0 => "leaf",
            _ if info.is_self_issued() => "root",
            _ => "issuer",
        };
        egui::CollapsingHeader::new(format!("{}. {} ({role})", pos + 1, label_of(info)))
            .id_salt(("import_cert", i))
            .default_open(pos == 0)
            .show(ui, |ui| {
                ui.vertical(|ui| {
                    for (label, value, mono) in certificate_facts(info, now, ", ") {
                        field(ui, label, &value, mono);
                    }
                    field(ui, "Public key", &info.public_key.to_string(), false);
                    field(ui, "From", &cert.source, false);
                });
            });
    }
    if let Some(key) = &bundle.key {
        ui.label(format!(
            "Private key: {}{} (from {})",
            key.algorithm.label(),
            key.bits.map(|b| format!(", {b} bits")).unwrap_or_default(),
            key.source
        ));
    }
}

fn checks(ui: &mut egui::Ui, flow: &ImportFlow, actions: &mut Vec<Action>) {
    if flow.checks.is_empty() {
        return;
    }
    ui.add_space(6.0);
    ui.strong("Checks");
    for c in &flow.checks {
        let (text, color) = match c.verdict {
            Verdict::Pass => ("ok", CHECK_PASSED),
            Verdict::Warn => ("warning", ui.visuals().warn_fg_color),
            Verdict::Fail => ("error", ui.visuals().error_fg_color),
        };
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(text).color(color).strong());
            ui.label(RichText::new(c.name).strong());
            ui.label(&c.detail);
        });
    }
    if let Some(problem) = &flow.date_problem
        && flow.purpose.send_label().is_some()
    {
        let mut allow = flow.allow_expired;
        let text = format!("Send it anyway: I know the certificate is {problem}");
        if ui.checkbox(&mut allow, text).changed() {
            actions.push(Action::Import(ImportAction::SetAllowExpired(allow)));
        }
    }
}
