//! Settings: profiles per cloud (region, endpoint override, signing, project and instance id),
//! secrets to the OS keyring, "Test connection", switching the workspace to a profile; the theme.

use crate::app::{Action, AppState, ProfileDraft, SettingsAction, TestResult, Theme};
use crate::cloud::{AlibabaSignatureVersion, HuaweiSigning};
use crate::model::Provider;
use crate::ui::style::success_color;
use crate::ui::widgets::{busy, choice, error_details, text_row, thresholds};
use eframe::egui::{self, RichText};

/// Width of the profile form's text fields.
const FIELD_WIDTH: f32 = 320.0;

fn act(actions: &mut Vec<Action>, a: SettingsAction) {
    actions.push(Action::Settings(a));
}

/// Draws the tab.
pub fn show(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            workspace(ui, state, actions);
            ui.add_space(8.0);
            profiles(ui, state, actions);
            ui.add_space(8.0);
            thresholds::show(ui, state.overview.thresholds, actions);
            ui.add_space(8.0);
            ui.heading("Appearance");
            ui.horizontal(|ui| {
                let mut theme = state.theme;
                ui.radio_value(&mut theme, Theme::Dark, "Dark");
                ui.radio_value(&mut theme, Theme::Light, "Light");
                if theme != state.theme {
                    actions.push(Action::SetTheme(theme));
                }
            });
        });
}

fn workspace(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    ui.heading("Workspace");
    if state.workspace().demo {
        ui.label(format!(
            "Demo — simulated cloud ({}). Add a profile below and choose \"Use\" to work on a real account.",
            state.workspace().description
        ));
    } else {
        ui.label(&state.workspace().description);
    }
    let enabled = state
        .settings
        .profiles()
        .iter()
        .filter(|p| p.enabled)
        .count();
    if enabled > 0
        && ui
            .add_enabled(
                !state.settings.opening,
                egui::Button::new(format!("Open the whole estate ({enabled} profiles)")),
            )
            .on_hover_text(
                "Every profile marked \"In the estate\", each in all its regions, in one window",
            )
            .clicked()
    {
        act(actions, SettingsAction::OpenEstate);
    }
    if state.settings.opening {
        busy(ui, "Opening the account…");
    }
}

fn test_result(ui: &mut egui::Ui, result: Option<&TestResult>) {
    match result {
        None => {}
        Some(TestResult::Running) => busy(ui, "Testing…"),
        Some(TestResult::Passed(text)) => {
            ui.label(RichText::new(text).color(success_color(ui.visuals())));
        }
        Some(TestResult::Failed(error)) => {
            ui.label(
                RichText::new("Connection test failed")
                    .color(ui.visuals().error_fg_color)
                    .strong(),
            );
            error_details::show(ui, error);
        }
    }
}

fn profiles(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    let s = &state.settings;
    ui.heading("Profiles");
    ui.label("Non-secret settings are saved in profiles.toml; secrets go to the OS keyring only.");
    ui.horizontal(|ui| {
        if ui
            .button("Add Alibaba Cloud profile")
            .on_hover_text("AccessKey for KMS, private CA, ESA and VOD")
            .clicked()
        {
            act(actions, SettingsAction::New(Provider::Alibaba));
        }
        if ui
            .button("Add Huawei Cloud profile")
            .on_hover_text("AK/SK for IoTDA")
            .clicked()
        {
            act(actions, SettingsAction::New(Provider::Huawei));
        }
        if ui
            .button("Reload profiles")
            .on_hover_text("Read profiles.toml again")
            .clicked()
        {
            act(actions, SettingsAction::Reload);
        }
        if s.busy {
            ui.spinner();
        }
    });
    if let Some(e) = &s.error {
        ui.label(RichText::new(e).color(ui.visuals().error_fg_color));
    }
    if let Some(m) = &s.message {
        ui.label(m);
    }
    if s.store.is_none() && !s.busy {
        ui.weak("Profiles are not loaded.");
    } else if s.profiles().is_empty() {
        ui.weak("No profiles yet.");
    }
    for p in s.profiles() {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                let mut enabled = p.enabled;
                if ui
                    .checkbox(&mut enabled, "In the estate")
                    .on_hover_text("Read by \"Open the whole estate\" and --all-profiles")
                    .changed()
                {
                    act(actions, SettingsAction::SetEnabled(p.name.clone(), enabled));
                }
                ui.strong(&p.name);
                ui.label(format!("{} · {}", p.provider, p.all_regions().join(", ")));
                if let Some(role) = &p.role {
                    ui.weak(format!(
                        "assumes {} with {}",
                        role.role_arn, role.source_profile
                    ));
                }
                if let Some(e) = &p.endpoint {
                    ui.weak(format!("endpoint {e}"));
                }
                if s.is_default(p) {
                    ui.label(RichText::new("default").italics());
                }
            });
            ui.horizontal(|ui| {
                let buttons = [
                    (
                        "Test connection",
                        format!("Make one read call with profile {}", p.name),
                        SettingsAction::Test(p.name.clone()),
                    ),
                    (
                        "Edit",
                        format!("Edit profile {}", p.name),
                        SettingsAction::Edit(p.name.clone()),
                    ),
                    (
                        "Use",
                        format!("Open the workspace with profile {}", p.name),
                        SettingsAction::Open(p.name.clone()),
                    ),
                    (
                        "Delete",
                        format!("Delete profile {} and its keyring secret", p.name),
                        SettingsAction::Delete(p.name.clone()),
                    ),
                ];
                for (label, hover, action) in buttons {
                    if ui.button(label).on_hover_text(hover).clicked() {
                        act(actions, action);
                    }
                }
            });
            if s.confirm_delete.as_deref() == Some(p.name.as_str()) {
                ui.horizontal(|ui| {
                    ui.label(
                        RichText::new(format!("Delete “{}” and its secret?", p.name))
                            .color(ui.visuals().error_fg_color),
                    );
                    if ui.button("Yes, delete").clicked() {
                        act(actions, SettingsAction::ConfirmDelete);
                    }
                    if ui.button("Keep it").clicked() {
                        act(actions, SettingsAction::CancelDelete);
                    }
                });
            }
            test_result(ui, s.tests.get(&p.name));
        });
    }
    if let Some(draft) = &s.draft {
        ui.add_space(6.0);
        form(ui, state, draft, actions);
    }
}

fn form(ui: &mut egui::Ui, state: &AppState, draft: &ProfileDraft, actions: &mut Vec<Action>) {
    let mut d = draft.clone();
    let mut changed = false;
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.strong(match &d.editing {
            Some(name) => format!("Edit profile “{name}” ({})", d.provider),
            None => format!("New {} profile", d.provider),
        });
        egui::Grid::new("profile_form")
            .num_columns(2)
            .show(ui, |ui| {
                changed |= text_row(
                    ui,
                    "Profile name",
                    "prod-hangzhou",
                    &mut d.name,
                    false,
                    FIELD_WIDTH,
                );
                changed |= text_row(
                    ui,
                    "Region",
                    crate::profiles::default_region(d.provider),
                    &mut d.region,
                    false,
                    FIELD_WIDTH,
                );
                changed |= text_row(
                    ui,
                    "Endpoint override",
                    "https://… (empty: the region's default)",
                    &mut d.endpoint,
                    false,
                    FIELD_WIDTH,
                );
                changed |= text_row(
                    ui,
                    "More regions",
                    "e.g. cn-shanghai, cn-beijing (KMS, ESA and IoTDA are regional)",
                    &mut d.regions,
                    false,
                    FIELD_WIDTH,
                );
                if d.provider == Provider::Alibaba {
                    changed |= text_row(
                        ui,
                        "RAM role ARN",
                        "acs:ram::<account id>:role/<name> (empty: use this profile's key)",
                        &mut d.role_arn,
                        false,
                        FIELD_WIDTH,
                    );
                    if !d.role_arn.trim().is_empty() {
                        changed |= text_row(
                            ui,
                            "Source profile",
                            "the profile whose AccessKey assumes the role",
                            &mut d.source_profile,
                            false,
                            FIELD_WIDTH,
                        );
                        changed |= text_row(
                            ui,
                            "ExternalId",
                            "only when the role's trust policy asks for one",
                            &mut d.external_id,
                            false,
                            FIELD_WIDTH,
                        );
                    }
                }
                let (id_label, secret_label) = match d.provider {
                    Provider::Alibaba => ("AccessKey id", "AccessKey secret"),
                    Provider::Huawei => ("Access key (AK)", "Secret key (SK)"),
                };
                let is_role = !d.role_arn.trim().is_empty();
                if !is_role {
                    changed |= text_row(ui, id_label, "", &mut d.access_key_id, false, FIELD_WIDTH);
                    let secret_hint = if d.editing.is_some() {
                        "leave empty to keep the stored secret"
                    } else {
                        "stored in the OS keyring"
                    };
                    changed |= text_row(
                        ui,
                        secret_label,
                        secret_hint,
                        &mut d.secret,
                        true,
                        FIELD_WIDTH,
                    );
                    changed |= text_row(
                        ui,
                        "Security token",
                        "only for temporary (STS) keys",
                        &mut d.security_token,
                        true,
                        FIELD_WIDTH,
                    );
                }
                match d.provider {
                    Provider::Alibaba => {
                        let picked = choice(
                            ui,
                            "Signing",
                            "alibaba_signing",
                            d.alibaba_signature,
                            [AlibabaSignatureVersion::V3, AlibabaSignatureVersion::V1],
                            |s| match s {
                                AlibabaSignatureVersion::V3 => "ACS3-HMAC-SHA256 (V3)",
                                AlibabaSignatureVersion::V1 => "HMAC-SHA1 (V1, legacy)",
                            },
                        );
                        changed |= picked != d.alibaba_signature;
                        d.alibaba_signature = picked;
                    }
                    Provider::Huawei => {
                        let picked = choice(
                            ui,
                            "Signing",
                            "huawei_signing",
                            d.huawei_signing,
                            [
                                HuaweiSigning::Auto,
                                HuaweiSigning::Basic,
                                HuaweiSigning::Derived,
                            ],
                            |s| match s {
                                HuaweiSigning::Auto => "Automatic (from the endpoint)",
                                HuaweiSigning::Basic => "SDK-HMAC-SHA256",
                                HuaweiSigning::Derived => "V11-HMAC-SHA256 (derived)",
                            },
                        );
                        changed |= picked != d.huawei_signing;
                        d.huawei_signing = picked;
                    }
                }
                ui.end_row();
                if d.provider == Provider::Huawei {
                    changed |= text_row(
                        ui,
                        "Project id",
                        "32 hex digits (IAM project of the region)",
                        &mut d.project_id,
                        false,
                        FIELD_WIDTH,
                    );
                    changed |= text_row(
                        ui,
                        "Projects of more regions",
                        "region=project id, e.g. cn-east-3=0a1b…",
                        &mut d.projects,
                        false,
                        FIELD_WIDTH,
                    );
                    changed |= text_row(
                        ui,
                        "IoTDA instance id",
                        "required for standard and enterprise editions",
                        &mut d.instance_id,
                        false,
                        FIELD_WIDTH,
                    );
                }
                changed |= text_row(
                    ui,
                    "Bulk rate limit (requests/s)",
                    "empty: the API's published limit (10); 0: no limit",
                    &mut d.rate_limit_qps,
                    false,
                    FIELD_WIDTH,
                );
                changed |= text_row(
                    ui,
                    "HTTPS proxy",
                    "empty: HTTPS_PROXY from the environment; none: no proxy",
                    &mut d.proxy,
                    false,
                    FIELD_WIDTH,
                );
                ui.label("");
                changed |= ui
                    .checkbox(&mut d.make_default, "Default profile for this cloud")
                    .changed();
                ui.end_row();
                ui.label("");
                changed |= ui
                    .checkbox(&mut d.enabled, "In the estate (opened with the others)")
                    .changed();
                ui.end_row();
            });
        ui.horizontal(|ui| {
            if ui
                .add_enabled(!state.settings.busy, egui::Button::new("Save profile"))
                .on_hover_text("Write profiles.toml and put the secret in the OS keyring")
                .clicked()
            {
                act(actions, SettingsAction::Save);
            }
            if ui
                .button("Test these settings")
                .on_hover_text("One read call with the values in this form")
                .clicked()
            {
                act(actions, SettingsAction::TestDraft);
            }
            if ui.button("Cancel").clicked() {
                act(actions, SettingsAction::CloseDraft);
            }
        });
        test_result(ui, state.settings.tests.get(""));
    });
    if changed {
        act(actions, SettingsAction::SetDraft(Box::new(d)));
    }
}
