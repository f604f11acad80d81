//! The one place for how things look and read everywhere in the window: the row height of every
//! table, the date, time and age formats, the colours of statuses, expiry levels, services and
//! banners (each readable on the dark and the light theme), and small text helpers. Pure
//! functions of their arguments; knows `model` and the app's expiry levels, nothing of tabs,
//! widgets or dialogs.

use crate::app::overview::ExpiryLevel;
use crate::model::{CertStatus, Service};
use eframe::egui::{Color32, RichText, Visuals};

/// Row height of every table, in points.
pub const ROW_HEIGHT: f32 = 20.0;

/// `YYYY-MM-DD` of a UNIX time.
pub fn format_date(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(time::macros::format_description!("[year]-[month]-[day]"))
                .ok()
        })
        .unwrap_or_else(|| "—".into())
}

/// `YYYY-MM-DD HH:MM UTC` of a UNIX time (the app's filter labels use the same format).
pub use crate::app::view::utc_minute as format_datetime;

/// "3 minutes ago" style age.
pub fn format_age(seconds: i64) -> String {
    match seconds.max(0) {
        s if s < 60 => "just now".into(),
        s if s < 3_600 => format!("{} min ago", s / 60),
        s if s < 86_400 => format!("{} h ago", s / 3_600),
        s => format!("{} days ago", s / 86_400),
    }
}

/// `s` with its first letter in upper case ("revoke" → "Revoke").
pub fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// `dark` on the dark theme, `light` on the light one: for fills under the theme's text colour.
pub fn themed(visuals: &Visuals, dark: Color32, light: Color32) -> Color32 {
    if visuals.dark_mode { dark } else { light }
}

/// Status colour (readable on dark and light backgrounds).
pub fn status_color(status: CertStatus, dark: bool) -> Color32 {
    match (status, dark) {
        (CertStatus::Active, true) => Color32::from_rgb(110, 200, 120),
        (CertStatus::Active, false) => Color32::from_rgb(20, 120, 40),
        (CertStatus::Inactive, true) => Color32::from_rgb(220, 190, 90),
        (CertStatus::Inactive, false) => Color32::from_rgb(150, 100, 0),
        (CertStatus::Revoked, true) => Color32::from_rgb(235, 110, 100),
        (CertStatus::Revoked, false) => Color32::from_rgb(180, 30, 30),
        (CertStatus::Pending, true) => Color32::from_rgb(130, 170, 240),
        (CertStatus::Pending, false) => Color32::from_rgb(30, 80, 180),
        (CertStatus::Unknown, _) => Color32::GRAY,
    }
}

/// Text colour of something that went well ("Done: …", a passed connection test): the colour
/// of an active status.
pub fn success_color(visuals: &Visuals) -> Color32 {
    status_color(CertStatus::Active, visuals.dark_mode)
}

/// Colour of a check that passed in the import dialog (the same on both themes).
pub const CHECK_PASSED: Color32 = Color32::from_rgb(60, 160, 80);

/// Text colour for an expiry level (`None`: the normal text colour).
pub fn level_color(level: ExpiryLevel, visuals: &Visuals) -> Option<Color32> {
    match level {
        ExpiryLevel::Expired | ExpiryLevel::Critical => Some(visuals.error_fg_color),
        ExpiryLevel::Warning => Some(visuals.warn_fg_color),
        ExpiryLevel::Ok | ExpiryLevel::Unknown => None,
    }
}

/// `text` in `color`, or unchanged for `None` (a row's cells coloured by its expiry level).
pub fn tinted(text: RichText, color: Option<Color32>) -> RichText {
    match color {
        Some(c) => text.color(c),
        None => text,
    }
}

/// Colour of a service in the Overview chart and legend.
pub fn service_color(service: Service) -> Color32 {
    match service {
        Service::Kms => Color32::from_rgb(86, 156, 214),
        Service::Pca => Color32::from_rgb(197, 134, 192),
        Service::Esa => Color32::from_rgb(78, 201, 176),
        Service::Vod => Color32::from_rgb(220, 160, 70),
        Service::Iotda => Color32::from_rgb(150, 150, 230),
        Service::Cdn => Color32::from_rgb(230, 120, 90),
        Service::Ssl => Color32::from_rgb(120, 190, 90),
        Service::Sts => Color32::from_rgb(160, 160, 160),
    }
}

/// Colour of the chart's "already expired" label (readable on both themes' plot backgrounds).
pub const EXPIRED_LABEL: Color32 = Color32::from_rgb(235, 110, 100);

/// Fill of the demo banner (amber).
pub fn demo_banner_fill(visuals: &Visuals) -> Color32 {
    themed(
        visuals,
        Color32::from_rgb(70, 55, 10),
        Color32::from_rgb(255, 236, 170),
    )
}

/// Fill of the banner offering an unfinished bulk job for resume (orange).
pub fn resume_banner_fill(visuals: &Visuals) -> Color32 {
    themed(
        visuals,
        Color32::from_rgb(60, 40, 20),
        Color32::from_rgb(255, 225, 190),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_levels_have_colours() {
        let v = Visuals::dark();
        assert_eq!(
            level_color(ExpiryLevel::Expired, &v),
            Some(v.error_fg_color)
        );
        assert_eq!(
            level_color(ExpiryLevel::Critical, &v),
            Some(v.error_fg_color)
        );
        assert_eq!(level_color(ExpiryLevel::Warning, &v), Some(v.warn_fg_color));
        assert_eq!(level_color(ExpiryLevel::Ok, &v), None);
        assert_eq!(level_color(ExpiryLevel::Unknown, &v), None);
    }

    #[test]
    fn ages_dates_and_capitals_read_as_the_labels_expect() {
        assert_eq!(format_age(-5), "just now", "a clock skew reads as now");
        assert_eq!(format_age(59), "just now");
        assert_eq!(format_age(60), "1 min ago");
        assert_eq!(format_age(7_200), "2 h ago");
        assert_eq!(format_age(3 * 86_400), "3 days ago");
        assert_eq!(format_date(0), "1970-01-01");
        assert_eq!(format_date(i64::MAX), "—");
        assert_eq!(capitalised("revoke"), "Revoke");
        assert_eq!(capitalised("https-off"), "Https-off");
        assert_eq!(capitalised(""), "");
    }

    #[test]
    fn banner_fills_follow_the_theme() {
        let (dark, light) = (Visuals::dark(), Visuals::light());
        assert_ne!(demo_banner_fill(&dark), demo_banner_fill(&light));
        assert_ne!(resume_banner_fill(&dark), resume_banner_fill(&light));
        assert_eq!(success_color(&dark), status_color(CertStatus::Active, true));
        assert_eq!(
            success_color(&light),
            status_color(CertStatus::Active, false)
        );
    }
}
