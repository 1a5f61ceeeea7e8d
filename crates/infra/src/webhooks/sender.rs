//! Sends webhook messages with `reqwest` (rustls): one POST, within the
//! timeout, no redirects, and never to a loopback, private or link-local
//! address unless private targets are allowed. Names are resolved by a
//! resolver that drops such addresses, so a name cannot be pointed at one
//! between the check and the connection.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use garage_domain::webhooks::{Outcome, Sender, WebhookUrl, TIMEOUT};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether a receiver at `ip` is out of bounds for webhooks.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                // Shared address space (carrier-grade NAT), benchmarking,
                // IETF protocol assignments, reserved.
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (18..20).contains(&b))
                || (a == 192 && b == 0 && v4.octets()[2] == 0)
                || a >= 240
                || a == 0
        }
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            let first = segments[0];
            let v4_at = |high: u16, low: u16| {
                std::net::Ipv4Addr::from((u32::from(high) << 16) | u32::from(low))
            };
            // An IPv4 address carried inside: mapped, compatible, NAT64
            // (64:ff9b::/96) or 6to4 (2002::/16).
            let embedded = v6
                .to_ipv4()
                .or_else(|| {
                    (segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0])
                        .then(|| v4_at(segments[6], segments[7]))
                })
                .or_else(|| (first == 0x2002).then(|| v4_at(segments[1], segments[2])));
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // Unique local fc00::/7, link-local fe80::/10, site-local fec0::/10.
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first & 0xffc0) == 0xfec0
                || embedded.is_some_and(|v4| is_private(IpAddr::V4(v4)))
        }
    }
}

/// Resolves names, keeping only addresses webhooks may reach.
#[derive(Debug)]
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|addr| !is_private(addr.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!(
                    "{} resolves to no public address: private targets are not allowed",
                    name.as_str()
                )
                .into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// The outgoing HTTP adapter of the webhooks.
#[derive(Debug, Clone)]
pub struct HttpSender {
    client: reqwest::Client,
    allow_private: bool,
}

impl HttpSender {
    /// # Errors
    /// When the TLS client cannot be built.
    pub fn new(allow_private: bool) -> anyhow::Result<Self> {
        let mut builder = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from the environment would resolve names itself,
            // past the resolver below.
            .no_proxy()
            .user_agent(concat!("Garage-Webhooks/", env!("CARGO_PKG_VERSION")));
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        Ok(Self {
            client: builder.build()?,
            allow_private,
        })
    }

    /// A refusal, before anything is sent, of a URL naming a private
    /// address outright.
    fn refusal(&self, url: &reqwest::Url) -> Option<String> {
        if self.allow_private {
            return None;
        }
        // Saved while plain http was allowed, sent after it no longer is.
        if url.scheme() != "https" {
            return Some("plain http:// is not allowed: private targets are off".into());
        }
        let ip = match url.host()? {
            url::Host::Ipv4(ip) => IpAddr::V4(ip),
            url::Host::Ipv6(ip) => IpAddr::V6(ip),
            url::Host::Domain(_) => return None,
        };
        is_private(ip)
            .then(|| format!("{ip} is a private address: private targets are not allowed"))
    }
}

/// Reads `Retry-After` given in seconds (an HTTP date is ignored).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[async_trait]
impl Sender for HttpSender {
    async fn send(
        &self,
        url: &WebhookUrl,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    ) -> Outcome {
        let failed = |error: String| Outcome::Failed {
            status: None,
            error,
            retry_after: None,
        };
        let parsed = match reqwest::Url::parse(url.as_str()) {
            Ok(parsed) => parsed,
            Err(err) => return failed(format!("bad URL: {err}")),
        };
        if let Some(refused) = self.refusal(&parsed) {
            return failed(refused);
        }
        let mut request = self
            .client
            .post(parsed)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status();
                if status.is_success() {
                    Outcome::Delivered {
                        status: status.as_u16(),
                    }
                } else if status == reqwest::StatusCode::GONE {
                    Outcome::Gone
                } else {
                    Outcome::Failed {
                        status: Some(status.as_u16()),
                        error: format!("the endpoint answered {status}"),
                        retry_after: retry_after(response.headers()),
                    }
                }
            }
            Err(err) if err.is_timeout() => failed(format!("no answer within {TIMEOUT:?}")),
            Err(err) => {
                // The chain names the cause (refused connection, DNS, TLS).
                let mut text = err.to_string();
                let mut source = std::error::Error::source(&err);
                while let Some(cause) = source {
                    text.push_str(": ");
                    text.push_str(&cause.to_string());
                    source = cause.source();
                }
                failed(text)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_private;

    #[test]
    fn private_loopback_and_link_local_addresses_are_out_of_bounds() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "198.18.0.1",
            "192.0.0.8",
            "240.0.0.1",
            "255.255.255.255",
            "fec0::1",
            "64:ff9b::7f00:1",
            "::127.0.0.1",
            "2002:c0a8:0101::1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.215.14",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
        ] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }
}
