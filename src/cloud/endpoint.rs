//! Where each service lives: the default host per region (alibaba.md §2/§9.6, huawei.md §2.1) and
//! the validated [`Endpoint`] every request goes to. `https://` is always allowed, `http://` only for
//! loopback hosts (the simulator); anything else is refused before a byte is sent.
//! Knows nothing of signing or of the request shapes.

use crate::model::Service;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

/// Why an endpoint URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// Not a URL at all.
    #[error("invalid endpoint URL {url:?}: {reason}")]
    Invalid {
        /// What was given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `http://` to a host that is not loopback: credentials-signed traffic must be encrypted.
    #[error(
        "refusing plain http to {host}: use https:// (http:// is allowed only for loopback hosts such as 127.0.0.1, ::1 or localhost)"
    )]
    InsecureHttp {
        /// The offending host.
        host: String,
    },
}

/// The scheme of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// TLS (always allowed).
    Https,
    /// Plain text, loopback hosts only.
    Http,
}

/// A validated endpoint: scheme, host and optional non-default port. No path (every API here is
/// addressed from `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    scheme: Scheme,
    /// Host as it appears in a URL (IPv6 in brackets), lower-case.
    host: String,
    /// Explicit non-default port.
    port: Option<u16>,
}

impl Endpoint {
    /// An `https://` endpoint on the default port.
    pub fn https(host: &str) -> Result<Endpoint, EndpointError> {
        Endpoint::parse(&format!("https://{host}"))
    }

    /// Parses and validates an override such as `https://kms.cn-hangzhou.aliyuncs.com` or
    /// `http://127.0.0.1:8080`. A bare host (`kms.example.com`) is taken as `https://`.
    pub fn parse(text: &str) -> Result<Endpoint, EndpointError> {
        let trimmed = text.trim();
        let invalid = |reason: &str| EndpointError::Invalid {
            url: trimmed.to_string(),
            reason: reason.to_string(),
        };
        let with_scheme = if trimmed.contains("://") {
            trimmed.to_string()
        } else {
            format!("https://{trimmed}")
        };
        let url = Url::parse(&with_scheme).map_err(|e| invalid(&e.to_string()))?;
        let scheme = match url.scheme() {
            "https" => Scheme::Https,
            "http" => Scheme::Http,
            other => {
                return Err(invalid(&format!(
                    "unsupported scheme {other:?} (use https)"
                )));
            }
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("credentials in the URL are not allowed"));
        }
        if url.path() != "/" && !url.path().is_empty() {
            return Err(invalid("the endpoint must not have a path"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("the endpoint must not have a query or fragment"));
        }
        let host = url.host().ok_or_else(|| invalid("no host"))?;
        let loopback = match &host {
            Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
            Host::Ipv4(ip) => ip.is_loopback(),
            Host::Ipv6(ip) => ip.is_loopback(),
        };
        let host_text = match &host {
            Host::Domain(d) => d.to_ascii_lowercase(),
            Host::Ipv4(ip) => ip.to_string(),
            Host::Ipv6(ip) => format!("[{ip}]"),
        };
        if scheme == Scheme::Http && !loopback {
            return Err(EndpointError::InsecureHttp { host: host_text });
        }
        // `Url::port` is `None` for the scheme's default port, exactly when the HTTP stack leaves
        // the port out of the Host header.
        Ok(Endpoint {
            scheme,
            host: host_text,
            port: url.port(),
        })
    }

    /// The value of the `Host` header (and of the signed `host`): host plus `:port` when the port
    /// is not the scheme's default.
    pub fn authority(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.host),
            None => self.host.clone(),
        }
    }

    /// `scheme://authority` without a trailing slash.
    pub fn base_url(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Https => "https",
            Scheme::Http => "http",
        };
        format!("{scheme}://{}", self.authority())
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// `true` for 127.0.0.0/8, ::1 and localhost.
    pub fn is_loopback(&self) -> bool {
        let bare = self.host.trim_start_matches('[').trim_end_matches(']');
        bare == "localhost"
            || bare.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
            || bare.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback())
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base_url())
    }
}

/// Regions whose CAS (PCA) API is served by the central `cas.aliyuncs.com` (the China site):
/// every `cn-*` region plus these, per the SDK's endpoint map (alibaba.md §2). Other regions use
/// the regional rule `cas.<region>.aliyuncs.com`.
const CAS_CENTRAL_REGIONS: [&str; 5] = [
    "us-east-1",
    "us-west-1",
    "eu-west-1",
    "ap-southeast-3",
    "ap-southeast-5",
];

/// VOD's domain and certificate operations exist only in Shanghai (alibaba.md §3.3).
pub const VOD_HOST: &str = "vod.cn-shanghai.aliyuncs.com";

/// CDN's endpoint rule is `central` (alibaba-cdn-cas-sts.md §1): `cdn.aliyuncs.com` for every
/// region, except these overseas regions, which the SDK maps to the Singapore endpoint.
const CDN_OVERSEAS_REGIONS: [&str; 11] = [
    "ap-northeast-1",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-5",
    "eu-central-1",
    "eu-west-1",
    "me-east-1",
    "us-east-1",
    "us-west-1",
];

/// The SSL Certificates Service (cas 2020-04-07) SDK's endpoint map: these regions use the China
/// site `cas.aliyuncs.com`; every other region gets `cas.<region>.aliyuncs.com` by the regional
/// rule (so `ap-southeast-1`, the international site, is `cas.ap-southeast-1.aliyuncs.com`).
const SSL_CENTRAL_REGIONS: [&str; 15] = [
    "cn-hangzhou",
    "cn-beijing",
    "cn-chengdu",
    "cn-hongkong",
    "cn-huhehaote",
    "cn-qingdao",
    "cn-shanghai",
    "cn-shenzhen",
    "cn-wulanchabu",
    "cn-zhangjiakou",
    "ap-southeast-3",
    "ap-southeast-5",
    "eu-west-1",
    "us-east-1",
    "us-west-1",
];

/// The STS SDK's endpoint map: only these regions use the central `sts.aliyuncs.com`; every
/// other region (cn-hangzhou included) gets `sts.<region>.aliyuncs.com`.
const STS_CENTRAL_REGIONS: [&str; 9] = [
    "ap-south-1",
    "ap-southeast-2",
    "cn-fujian",
    "cn-wuhan",
    "cn-zhangbei",
    "cn-yushanfang",
    "ap-northeast-2-pop",
    "eu-west-1-oxs",
    "rus-west-1-pop",
];

/// The default host of `service` in `region`.
pub fn default_host(service: Service, region: &str) -> String {
    let region = region.trim();
    match service {
        Service::Kms => format!("kms.{region}.aliyuncs.com"),
        Service::Pca => {
            if region.starts_with("cn-") || CAS_CENTRAL_REGIONS.contains(&region) {
                "cas.aliyuncs.com".to_string()
            } else {
                format!("cas.{region}.aliyuncs.com")
            }
        }
        Service::Vod => VOD_HOST.to_string(),
        Service::Esa => format!("esa.{region}.aliyuncs.com"),
        Service::Iotda => format!("iotda.{region}.myhuaweicloud.com"),
        Service::Cdn => {
            if CDN_OVERSEAS_REGIONS.contains(&region) {
                "cdn.ap-southeast-1.aliyuncs.com".to_string()
            } else {
                "cdn.aliyuncs.com".to_string()
            }
        }
        Service::Ssl => {
            if SSL_CENTRAL_REGIONS.contains(&region) {
                "cas.aliyuncs.com".to_string()
            } else {
                format!("cas.{region}.aliyuncs.com")
            }
        }
        Service::Sts => {
            if STS_CENTRAL_REGIONS.contains(&region) {
                "sts.aliyuncs.com".to_string()
            } else {
                format!("sts.{region}.aliyuncs.com")
            }
        }
    }
}

/// The endpoint of `service`: the override when given (validated), else the regional default.
pub fn resolve(
    service: Service,
    region: &str,
    override_url: Option<&str>,
) -> Result<Endpoint, EndpointError> {
    match override_url.map(str::trim).filter(|s| !s.is_empty()) {
        Some(url) => Endpoint::parse(url),
        None => {
            let region = region.trim();
            let valid_region = !region.is_empty()
                && region
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            // VOD ignores the region and CDN's central rule answers even without one; the
            // regional rules (CAS, STS...) need one, as the SDKs' "RegionId is empty" says.
            let regionless =
                matches!(service, Service::Vod) || (service == Service::Cdn && region.is_empty());
            if !valid_region && !regionless {
                return Err(EndpointError::Invalid {
                    url: region.to_string(),
                    reason: "the region id must be lower-case letters, digits and '-' (e.g. cn-hangzhou)".into(),
                });
            }
            Endpoint::https(&default_host(service, region))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_hosts_per_service() {
        assert_eq!(
            default_host(Service::Kms, "cn-hangzhou"),
            "kms.cn-hangzhou.aliyuncs.com"
        );
        assert_eq!(
            default_host(Service::Pca, "cn-hangzhou"),
            "cas.aliyuncs.com"
        );
        assert_eq!(default_host(Service::Pca, "us-east-1"), "cas.aliyuncs.com");
        assert_eq!(
            default_host(Service::Pca, "ap-southeast-1"),
            "cas.ap-southeast-1.aliyuncs.com"
        );
        assert_eq!(
            default_host(Service::Vod, "ap-southeast-1"),
            "vod.cn-shanghai.aliyuncs.com"
        );
        assert_eq!(
            default_host(Service::Vod, "cn-beijing"),
            "vod.cn-shanghai.aliyuncs.com"
        );
        assert_eq!(
            default_host(Service::Esa, "ap-southeast-1"),
            "esa.ap-southeast-1.aliyuncs.com"
        );
        assert_eq!(
            default_host(Service::Iotda, "cn-north-4"),
            "iotda.cn-north-4.myhuaweicloud.com"
        );
    }

    /// The resolved hosts of alibaba-cdn-cas-sts.md §1 (SDK output).
    #[test]
    fn cdn_ssl_and_sts_hosts_follow_the_sdk_rules() {
        for (region, cdn, ssl, sts) in [
            (
                "cn-hangzhou",
                "cdn.aliyuncs.com",
                "cas.aliyuncs.com",
                "sts.cn-hangzhou.aliyuncs.com",
            ),
            (
                "cn-shanghai",
                "cdn.aliyuncs.com",
                "cas.aliyuncs.com",
                "sts.cn-shanghai.aliyuncs.com",
            ),
            (
                "cn-hongkong",
                "cdn.aliyuncs.com",
                "cas.aliyuncs.com",
                "sts.cn-hongkong.aliyuncs.com",
            ),
            (
                "ap-southeast-1",
                "cdn.ap-southeast-1.aliyuncs.com",
                "cas.ap-southeast-1.aliyuncs.com",
                "sts.ap-southeast-1.aliyuncs.com",
            ),
            (
                "us-east-1",
                "cdn.ap-southeast-1.aliyuncs.com",
                "cas.aliyuncs.com",
                "sts.us-east-1.aliyuncs.com",
            ),
            (
                "eu-central-1",
                "cdn.ap-southeast-1.aliyuncs.com",
                "cas.eu-central-1.aliyuncs.com",
                "sts.eu-central-1.aliyuncs.com",
            ),
            (
                "ap-south-1",
                "cdn.ap-southeast-1.aliyuncs.com",
                "cas.ap-south-1.aliyuncs.com",
                "sts.aliyuncs.com",
            ),
        ] {
            assert_eq!(default_host(Service::Cdn, region), cdn, "{region}");
            assert_eq!(default_host(Service::Ssl, region), ssl, "{region}");
            assert_eq!(default_host(Service::Sts, region), sts, "{region}");
        }
        // CDN answers without a region; CAS and STS need one.
        assert_eq!(
            resolve(Service::Cdn, "", None).unwrap().authority(),
            "cdn.aliyuncs.com"
        );
        assert!(resolve(Service::Ssl, "", None).is_err());
        assert!(resolve(Service::Sts, " ", None).is_err());
    }

    #[test]
    fn override_replaces_default() {
        let e = resolve(Service::Kms, "cn-hangzhou", Some("http://127.0.0.1:8080")).unwrap();
        assert_eq!(e.base_url(), "http://127.0.0.1:8080");
        assert_eq!(e.authority(), "127.0.0.1:8080");
        let e = resolve(
            Service::Vod,
            "cn-hangzhou",
            Some("https://vod.example.com/"),
        )
        .unwrap();
        assert_eq!(e.authority(), "vod.example.com");
        let e = resolve(Service::Kms, "cn-hangzhou", None).unwrap();
        assert_eq!(e.base_url(), "https://kms.cn-hangzhou.aliyuncs.com");
        assert!(resolve(Service::Kms, "cn hangzhou/..", None).is_err());
    }

    #[test]
    fn http_only_for_loopback() {
        for ok in [
            "http://127.0.0.1:9000",
            "http://127.8.9.10",
            "http://[::1]:8080",
            "http://localhost:1234",
            "http://LOCALHOST",
            "https://kms.cn-hangzhou.aliyuncs.com",
            "https://10.0.0.1:8443",
            "kms.cn-hangzhou.aliyuncs.com",
        ] {
            assert!(Endpoint::parse(ok).is_ok(), "{ok} should be accepted");
        }
        for bad in [
            "http://10.0.0.1",
            "http://kms.cn-hangzhou.aliyuncs.com",
            "http://localhost.evil.com",
            "http://[::2]",
        ] {
            let err = Endpoint::parse(bad).unwrap_err();
            assert!(
                matches!(err, EndpointError::InsecureHttp { .. }),
                "{bad}: {err}"
            );
            assert!(err.to_string().contains("https://"), "{err}");
        }
        for bad in [
            "ftp://127.0.0.1",
            "https://user:pw@host",
            "https://host/path",
            "https://host/?q=1",
            "http://",
        ] {
            assert!(
                matches!(Endpoint::parse(bad), Err(EndpointError::Invalid { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn authority_omits_default_ports() {
        assert_eq!(
            Endpoint::parse("https://h.example:443")
                .unwrap()
                .authority(),
            "h.example"
        );
        assert_eq!(
            Endpoint::parse("http://127.0.0.1:80").unwrap().authority(),
            "127.0.0.1"
        );
        assert_eq!(
            Endpoint::parse("https://h.example:8443")
                .unwrap()
                .authority(),
            "h.example:8443"
        );
        assert_eq!(
            Endpoint::parse("http://[::1]:9").unwrap().authority(),
            "[::1]:9"
        );
        assert!(Endpoint::parse("http://[::1]:9").unwrap().is_loopback());
    }
}
