//! The client's address: the socket's peer, or, when the peer is a proxy
//! the operator trusts, the address that proxy saw.

use std::net::IpAddr;

use actix_web::http::header::{self, HeaderMap};
use ipnet::IpNet;

/// Which header trusted proxies write the client's address into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (nginx, HAProxy, most load balancers).
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1`.
    Forwarded,
}

/// The proxies whose word on the client's address is taken.
#[derive(Debug, Clone)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
    header: ClientHeader,
}

/// IPv4 clients seen through an IPv6 socket are IPv4 clients.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// One hop of `X-Forwarded-For` or a `for=` of `Forwarded`: an address,
/// perhaps quoted, bracketed or with a port.
fn hop(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim().trim_matches('"');
    if let Ok(ip) = raw.parse() {
        return Some(canonical(ip));
    }
    if let Some(rest) = raw.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok().map(canonical);
    }
    let (host, port) = raw.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse().ok().map(canonical)
}

impl TrustedProxies {
    /// Trusts nobody: the peer is the client.
    pub fn none() -> Self {
        Self {
            nets: Vec::new(),
            header: ClientHeader::XForwardedFor,
        }
    }

    /// `entries` are CIDRs (`10.0.0.0/8`) or single addresses.
    ///
    /// # Errors
    /// The first entry that is neither.
    pub fn parse(entries: &[String], header: ClientHeader) -> Result<Self, String> {
        let nets = entries
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .map(|e| {
                e.parse::<IpNet>()
                    .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{e:?} is not a CIDR or an IP address"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { nets, header })
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|net| net.contains(&ip))
    }

    /// The hops the header lists, leftmost (the claimed client) first.
    fn hops(&self, headers: &HeaderMap) -> Vec<Option<IpAddr>> {
        match self.header {
            // Split as bytes: a client's non-ASCII byte garbles its own
            // entries, never the ones the proxies appended after them.
            ClientHeader::XForwardedFor => headers
                .get_all("x-forwarded-for")
                .flat_map(|v| v.as_bytes().split(|b| *b == b','))
                .map(|raw| std::str::from_utf8(raw).ok().and_then(hop))
                .collect(),
            // An element without `for=` is garbled too: it says nothing of
            // who sent the request.
            ClientHeader::Forwarded => headers
                .get_all(header::FORWARDED)
                .flat_map(|v| v.as_bytes().split(|b| *b == b','))
                .map(|raw| {
                    let element = std::str::from_utf8(raw).ok()?;
                    element.split(';').find_map(|pair| {
                        let (name, value) = pair.split_once('=')?;
                        if name.trim().eq_ignore_ascii_case("for") {
                            hop(value)
                        } else {
                            None
                        }
                    })
                })
                .collect(),
        }
    }

    /// The client: the peer, unless the peer is trusted; then the header's
    /// first entry from the right that is not a trusted proxy. Entries left
    /// of it were written by the client and prove nothing.
    pub fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let mut client = canonical(peer?);
        if !self.trusts(client) {
            return Some(client);
        }
        for hop in self.hops(headers).into_iter().rev() {
            // A garbled entry: the last trusted hop is all that is known.
            let Some(ip) = hop else { break };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        Some(client)
    }
}

/// The budget of an address: IPv6 clients get a /64 each, as one host
/// usually holds a whole /64.
pub(crate) fn address_bucket(ip: Option<IpAddr>) -> String {
    match ip {
        Some(IpAddr::V4(v4)) => format!("ip:{v4}"),
        Some(IpAddr::V6(v6)) => {
            let net = ipnet::Ipv6Net::new(v6, 64).map_or(v6, |n| n.network());
            format!("ip:{net}/64")
        }
        None => "ip:unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    fn proxies(list: &[&str], header: ClientHeader) -> TrustedProxies {
        let list: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
        TrustedProxies::parse(&list, header).unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let p = proxies(&["10.0.0.0/8"], ClientHeader::XForwardedFor);
        let h = headers(&[("x-forwarded-for", "1.2.3.4")]);
        assert_eq!(p.client(ip("203.0.113.9"), &h), ip("203.0.113.9"));
        assert_eq!(
            TrustedProxies::none().client(ip("10.0.0.1"), &h),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let p = proxies(&["10.0.0.0/8", "192.168.1.7"], ClientHeader::XForwardedFor);
        // The client wrote "10.0.0.99, 6.6.6.6"; the proxies appended the rest.
        let h = headers(&[
            ("x-forwarded-for", "10.0.0.99, 6.6.6.6"),
            ("x-forwarded-for", "203.0.113.9, 192.168.1.7"),
        ]);
        assert_eq!(p.client(ip("10.1.2.3"), &h), ip("203.0.113.9"));
        let spoofed = headers(&[("x-forwarded-for", "10.0.0.5, 203.0.113.9")]);
        assert_eq!(p.client(ip("10.1.2.3"), &spoofed), ip("203.0.113.9"));
        let all_trusted = headers(&[("x-forwarded-for", "10.0.0.5, 10.0.0.6")]);
        assert_eq!(p.client(ip("10.1.2.3"), &all_trusted), ip("10.0.0.5"));
        let garbled = headers(&[("x-forwarded-for", "203.0.113.9, nonsense")]);
        assert_eq!(p.client(ip("10.1.2.3"), &garbled), ip("10.1.2.3"));
        assert_eq!(p.client(ip("10.1.2.3"), &HeaderMap::new()), ip("10.1.2.3"));
    }

    #[test]
    fn a_clients_non_ascii_entry_does_not_hide_what_the_proxy_appended() {
        let p = proxies(&["10.0.0.0/8"], ClientHeader::XForwardedFor);
        let mut h = HeaderMap::new();
        h.insert(
            HeaderName::from_static("x-forwarded-for"),
            HeaderValue::from_bytes(b"\xe9t\xe9, 203.0.113.9").unwrap(),
        );
        assert_eq!(p.client(ip("10.1.2.3"), &h), ip("203.0.113.9"));
        let f = proxies(&["10.0.0.0/8"], ClientHeader::Forwarded);
        let no_for = headers(&[("forwarded", "for=6.6.6.6, proto=https")]);
        assert_eq!(
            f.client(ip("10.1.2.3"), &no_for),
            ip("10.1.2.3"),
            "an element without for= stops the walk"
        );
    }

    #[test]
    fn forwarded_is_read_only_when_chosen() {
        let h = headers(&[
            (
                "forwarded",
                "for=10.0.0.7, for=\"[2001:db8::1]:4711\";proto=https",
            ),
            ("x-forwarded-for", "198.51.100.1"),
        ]);
        let xff = proxies(&["127.0.0.1"], ClientHeader::XForwardedFor);
        assert_eq!(xff.client(ip("127.0.0.1"), &h), ip("198.51.100.1"));
        let fwd = proxies(&["127.0.0.1"], ClientHeader::Forwarded);
        assert_eq!(fwd.client(ip("127.0.0.1"), &h), ip("2001:db8::1"));
    }

    #[test]
    fn addresses_are_canonical_and_ipv6_shares_a_64() {
        assert_eq!(hop("203.0.113.9:443"), ip("203.0.113.9"));
        assert_eq!(hop("::ffff:203.0.113.9"), ip("203.0.113.9"));
        assert_eq!(hop("unknown"), None);
        assert_eq!(
            address_bucket(ip("2001:db8:1:2:aaaa::1")),
            address_bucket(ip("2001:db8:1:2:bbbb::2"))
        );
        assert_ne!(
            address_bucket(ip("2001:db8:1:2::1")),
            address_bucket(ip("2001:db8:1:3::1"))
        );
        assert!(TrustedProxies::parse(&["not-a-net".into()], ClientHeader::Forwarded).is_err());
    }
}
