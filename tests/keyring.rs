//! Profiles against the REAL OS keyring (Secret Service on Linux), not a mock.
//!
//! Run through `scripts/test.sh`, which starts a private D-Bus session with an unlocked
//! gnome-keyring. Without a usable keyring these tests fail loudly when `CI` is set, and skip with a
//! printed warning otherwise (a developer's shell without a Secret Service).

// Helpers outside #[test] fns unwrap too: in a test, a failed unwrap is a failed assertion.
#![allow(clippy::unwrap_used)]

use certdesk::credentials::Secret;
use certdesk::model::Provider;
use certdesk::profiles::{
    self, AccountCredentials, CONFIG_DIR_ENV, KEYRING_SERVICE, OsKeyring, PROFILES_FILE, Profile,
    ProfileError, ProfileSecrets, ProfileStore, SecretStore,
};
use std::path::Path;
use std::process::Command;

const PACKAGES: &str = "gnome-keyring libsecret-tools dbus-x11";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// `true` when the real keyring works. Panics in CI when it does not; otherwise warns and lets the
/// caller skip.
fn keyring_ready(test: &str) -> bool {
    match OsKeyring.probe() {
        Ok(()) => true,
        Err(e) if in_ci() => panic!(
            "{test}: CI must test against a real Secret Service, but the OS keyring is unusable: {e}\n\
             Run the tests with scripts/test.sh (it starts dbus-run-session and an unlocked \
             gnome-keyring-daemon); install: apt-get install -y {PACKAGES}"
        ),
        Err(e) => {
            eprintln!(
                "WARNING: {test} SKIPPED — no usable OS keyring ({e}). Run scripts/test.sh to test \
                 against a real Secret Service."
            );
            false
        }
    }
}

/// A name no other test run uses, so parallel runs and leftovers never collide.
fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

fn alibaba_profile(name: &str) -> Profile {
    Profile {
        name: name.to_string(),
        provider: Provider::Alibaba,
        region: "cn-hangzhou".to_string(),
        endpoint: Some("http://127.0.0.1:18080".to_string()),
        access_key_id: "LTAI-keyring-test".to_string(),
        alibaba_signature: Default::default(),
        huawei_signing: Default::default(),
        project_id: None,
        instance_id: None,
        rate_limit_qps: None,
        proxy: None,
    }
}

/// What `secret-tool` (libsecret, independent of the keyring crate) finds for a certdesk user.
fn secret_tool_lookup(user: &str) -> Option<String> {
    let out = match Command::new("secret-tool")
        .args(["lookup", "service", KEYRING_SERVICE, "username", user])
        .output()
    {
        Ok(out) => out,
        Err(e) if in_ci() => {
            panic!("secret-tool is missing in CI ({e}); apt-get install -y {PACKAGES}")
        }
        Err(e) => {
            eprintln!("WARNING: secret-tool not runnable ({e}); cross-check skipped");
            return None;
        }
    };
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim_end().to_string())
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn os_keyring_stores_reads_and_deletes_a_secret_seen_by_secret_tool() {
    if !keyring_ready("os_keyring_stores_reads_and_deletes_a_secret_seen_by_secret_tool") {
        return;
    }
    let user = unique("kr-roundtrip");
    let value = Secret::new(unique("value with spaces & ünïcode"));
    OsKeyring.set(&user, &value).expect("set");
    assert_eq!(OsKeyring.get(&user).expect("get"), Some(value.clone()));
    // Cross-check with libsecret's own client: the item really is in the Secret Service under
    // service "certdesk", user = our key.
    if let Some(seen) = secret_tool_lookup(&user) {
        assert_eq!(seen, value.expose());
    }
    let replaced = Secret::new(unique("second"));
    OsKeyring.set(&user, &replaced).expect("replace");
    assert_eq!(OsKeyring.get(&user).expect("get"), Some(replaced));
    assert!(OsKeyring.delete(&user).expect("delete"));
    assert_eq!(OsKeyring.get(&user).expect("get after delete"), None);
    assert!(!OsKeyring.delete(&user).expect("second delete"));
}

#[test]
fn profile_secrets_live_only_in_the_keyring_never_in_the_config_dir() {
    if !keyring_ready("profile_secrets_live_only_in_the_keyring_never_in_the_config_dir") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = ProfileStore::load_from(dir.path().join(PROFILES_FILE)).expect("load");
    let name = unique("kr-disk");
    let secret_text = unique("AccessKeySecret");
    let token_text = unique("StsToken");
    let secrets = ProfileSecrets {
        secret: Secret::new(secret_text.clone()),
        security_token: Some(Secret::new(token_text.clone())),
    };
    profiles::create_profile(
        &mut store,
        &OsKeyring,
        alibaba_profile(&name),
        &secrets,
        true,
    )
    .expect("create");

    // The file exists and names the profile, but no file under the config dir holds a secret.
    let files = files_under(dir.path());
    assert!(!files.is_empty(), "profiles.toml was not written");
    let mut saw_profile = false;
    for file in &files {
        let bytes = std::fs::read(file).expect("read");
        let text = String::from_utf8_lossy(&bytes);
        saw_profile |= text.contains(&name);
        assert!(
            !text.contains(&secret_text),
            "secret on disk in {}",
            file.display()
        );
        assert!(
            !text.contains(&token_text),
            "token on disk in {}",
            file.display()
        );
    }
    assert!(saw_profile, "profile name not found in {files:?}");

    // Both halves come back through the real keyring.
    let reloaded = ProfileStore::load_from(store.path()).expect("reload");
    for chosen in [Some(name.as_str()), None] {
        let account = profiles::resolve_in(&reloaded, &OsKeyring, chosen, Provider::Alibaba)
            .expect("resolve");
        assert_eq!(account.profile.name, name);
        match account.credentials {
            AccountCredentials::Alibaba(c) => {
                assert_eq!(c.access_key_id, "LTAI-keyring-test");
                assert_eq!(c.access_key_secret.expose(), secret_text);
                assert_eq!(
                    c.security_token.as_ref().map(Secret::expose),
                    Some(token_text.as_str())
                );
            }
            other => panic!("wrong provider: {other:?}"),
        }
    }
    if let Some(seen) = secret_tool_lookup(&profiles::token_user(&name)) {
        assert_eq!(seen, token_text);
    }

    // Deleting the profile deletes both keyring items.
    let mut store = reloaded;
    profiles::delete_profile(&mut store, &OsKeyring, &name).expect("delete");
    assert_eq!(OsKeyring.get(&name).expect("get"), None);
    assert_eq!(
        OsKeyring.get(&profiles::token_user(&name)).expect("get"),
        None
    );
}

#[test]
fn a_profile_without_its_keyring_entry_says_so() {
    if !keyring_ready("a_profile_without_its_keyring_entry_says_so") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = ProfileStore::load_from(dir.path().join(PROFILES_FILE)).expect("load");
    let name = unique("kr-missing");
    store.add(alibaba_profile(&name)).expect("add");
    store.save().expect("save");
    let err = profiles::resolve_in(&store, &OsKeyring, Some(&name), Provider::Alibaba)
        .expect_err("no secret stored");
    assert!(matches!(err, ProfileError::MissingSecret { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "no secret in the OS keyring for profile \"{name}\": run"
        )),
        "{text}"
    );
}

/// keyring 3's Secret Service store runs zbus on a private tokio runtime; calling it from inside
/// another tokio runtime must neither panic nor deadlock, on either runtime flavour, also when
/// several tasks use it at once.
#[test]
fn keyring_calls_work_inside_tokio_runtimes() {
    if !keyring_ready("keyring_calls_work_inside_tokio_runtimes") {
        return;
    }
    for multi_thread in [false, true] {
        let runtime = if multi_thread {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
        } else {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
        }
        .expect("runtime");
        runtime.block_on(async {
            profiles::probe_keyring_async()
                .await
                .expect("probe from async");
            // A direct (blocking) call on a runtime thread must not panic either.
            let user = unique("kr-direct");
            OsKeyring
                .set(&user, &Secret::new("direct"))
                .expect("direct set");
            assert!(OsKeyring.delete(&user).expect("direct delete"));

            let tasks: Vec<_> = (0..6)
                .map(|i| {
                    tokio::task::spawn_blocking(move || {
                        let user = unique(&format!("kr-par{i}"));
                        let value = Secret::new(format!("value-{i}"));
                        OsKeyring.set(&user, &value)?;
                        let back = OsKeyring.get(&user)?;
                        OsKeyring.delete(&user)?;
                        Ok::<_, ProfileError>(back == Some(value))
                    })
                })
                .collect();
            for task in tasks {
                assert!(
                    task.await.expect("join").expect("keyring call"),
                    "value mismatch"
                );
            }
        });
    }
}

/// `resolve` / `resolve_async` with the config directory taken from `CERTDESK_CONFIG_DIR`, run in
/// a child process (tests cannot safely set environment variables in their own process).
#[test]
fn resolve_uses_the_config_dir_from_the_environment() {
    if !keyring_ready("resolve_uses_the_config_dir_from_the_environment") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let name = unique("kr-env");
    let mut store = ProfileStore::load_from(dir.path().join(PROFILES_FILE)).expect("load");
    let secrets = ProfileSecrets {
        secret: Secret::new("child-secret"),
        security_token: None,
    };
    profiles::create_profile(
        &mut store,
        &OsKeyring,
        alibaba_profile(&name),
        &secrets,
        false,
    )
    .expect("create");

    let child = Command::new(std::env::current_exe().expect("exe"))
        .args([
            "--exact",
            "child_resolves_through_the_environment",
            "--ignored",
        ])
        .env(CONFIG_DIR_ENV, dir.path())
        .env("CERTDESK_TEST_CHILD_PROFILE", &name)
        .output()
        .expect("run child");
    profiles::delete_profile(&mut store, &OsKeyring, &name).expect("cleanup");
    let report = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success() && report.contains("1 passed"),
        "child test failed ({}):\n{report}\n{}",
        child.status,
        String::from_utf8_lossy(&child.stderr)
    );
}

/// Child half of [`resolve_uses_the_config_dir_from_the_environment`]; does nothing on its own.
#[test]
#[ignore = "run by resolve_uses_the_config_dir_from_the_environment in a child process"]
fn child_resolves_through_the_environment() {
    let Ok(name) = std::env::var("CERTDESK_TEST_CHILD_PROFILE") else {
        return;
    };
    let expected_dir = std::env::var_os(CONFIG_DIR_ENV).expect("config dir set by parent");
    assert_eq!(
        profiles::config_dir().expect("config dir"),
        Path::new(&expected_dir)
    );
    let blocking = profiles::resolve(Some(&name), Provider::Alibaba).expect("resolve");
    let only_one = profiles::resolve(None, Provider::Alibaba).expect("default = the only one");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let from_async = runtime
        .block_on(profiles::resolve_async(
            Some(name.clone()),
            Provider::Alibaba,
        ))
        .expect("resolve_async");
    for account in [&blocking, &only_one, &from_async] {
        assert_eq!(account.profile.name, name);
        match &account.credentials {
            AccountCredentials::Alibaba(c) => {
                assert_eq!(c.access_key_secret.expose(), "child-secret")
            }
            other => panic!("wrong provider: {other:?}"),
        }
    }
    let unknown =
        profiles::resolve(Some("no-such-profile"), Provider::Alibaba).expect_err("unknown");
    assert!(
        unknown.to_string().contains(&name),
        "lists known profiles: {unknown}"
    );
}
