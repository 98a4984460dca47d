//! Which client a request comes from, for the limits on callers without an
//! identity. The server records each connection's peer ([`ConnectInfo`]); when
//! that peer is a proxy the operator trusts (`SEN_TRUSTED_PROXIES`, the ingress
//! controller), the client is the nearest address in `X-Forwarded-For` that is
//! not itself a trusted proxy. Anyone else's `X-Forwarded-For` is ignored, so a
//! client cannot pick the address it is limited under.
//!
//! Limits are kept per [`AddressKey`]: a whole IPv4 address, or an IPv6 /64 (one
//! household or host is usually given a /64, so limiting single IPv6 addresses
//! would let one client take 2^64 allowances).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::ConnectInfo;
use http::Request;

/// The proxies whose `X-Forwarded-For` is believed (`SEN_TRUSTED_PROXIES`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

/// An address range, `10.0.0.0/8` or `fd00::/8` (a lone address is a /32 or /128).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    fn parse(text: &str) -> Result<Self, String> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address
            .trim()
            .parse()
            .map_err(|_| format!("has '{text}', which is not an address or a range such as 10.0.0.0/8"))?;
        let address = address.to_canonical();
        let longest = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => longest,
            Some(p) => match p.trim().parse::<u8>() {
                Ok(p) if p <= longest => p,
                _ => return Err(format!("has '{text}', whose prefix length is not 0 to {longest}")),
            },
        };
        Ok(Self { address, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => same_prefix(&net.octets(), &ip.octets(), self.prefix),
            (IpAddr::V6(net), IpAddr::V6(ip)) => same_prefix(&net.octets(), &ip.octets(), self.prefix),
            _ => false,
        }
    }
}

fn same_prefix(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let whole = usize::from(prefix / 8);
    let rest = prefix % 8;
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || (a[whole] ^ b[whole]) >> (8 - rest) == 0
}

impl TrustedProxies {
    /// Reads a comma-separated list of addresses and ranges, e.g. `10.0.0.0/8, fd00::/8`.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split(',').map(str::trim).filter(|t| !t.is_empty()).map(Network::parse).collect::<Result<_, _>>().map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(ip))
    }

    /// The client of `request`: its connection's peer, or, behind a trusted
    /// proxy, the last address in `X-Forwarded-For` that is not a trusted proxy.
    /// `None` when the server recorded no peer (a request made in-process).
    pub fn client_of<B>(&self, request: &Request<B>) -> Option<IpAddr> {
        let peer = request.extensions().get::<ConnectInfo<SocketAddr>>()?.0.ip().to_canonical();
        if !self.trusts(peer) {
            return Some(peer);
        }
        // Each proxy appends the address it heard from; read from the nearest back.
        let forwarded = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        for hop in forwarded.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(ip) if self.trusts(ip) => continue,
                Ok(ip) => return Some(ip.to_canonical()),
                // Anything unreadable may have been written by the client: stop at the proxy.
                Err(_) => return Some(peer),
            }
        }
        Some(peer)
    }
}

/// What per-address limits are kept under: an IPv4 address or an IPv6 /64.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct AddressKey(IpAddr);

impl AddressKey {
    /// The key of `ip`; an unknown client (`None`) has a key of its own.
    pub fn of(ip: Option<IpAddr>) -> Self {
        match ip {
            Some(IpAddr::V6(v6)) => {
                let mut octets = v6.octets();
                octets[8..].fill(0);
                Self(IpAddr::V6(Ipv6Addr::from(octets)))
            }
            Some(ip) => Self(ip),
            None => Self(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(peer: &str, forwarded: Option<&str>) -> Request<()> {
        let mut request = Request::new(());
        let peer: SocketAddr = peer.parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        if let Some(forwarded) = forwarded {
            request.headers_mut().insert("x-forwarded-for", forwarded.parse().unwrap());
        }
        request
    }

    #[test]
    fn a_client_cannot_choose_its_address_unless_it_comes_through_a_trusted_proxy() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, fd00::/8").unwrap();
        let direct = request("203.0.113.9:5000", Some("198.51.100.1"));
        assert_eq!(trusted.client_of(&direct), Some("203.0.113.9".parse().unwrap()), "not a proxy: ignored");
        let proxied = request("10.1.2.3:5000", Some("198.51.100.1, 203.0.113.7, 10.9.9.9"));
        assert_eq!(trusted.client_of(&proxied), Some("203.0.113.7".parse().unwrap()), "the nearest untrusted hop");
        let garbled = request("10.1.2.3:5000", Some("rubbish"));
        assert_eq!(trusted.client_of(&garbled), Some("10.1.2.3".parse().unwrap()));
        let mapped = request("[::ffff:10.1.2.3]:5000", Some("192.0.2.4"));
        assert_eq!(trusted.client_of(&mapped), Some("192.0.2.4".parse().unwrap()), "IPv4-mapped peers are IPv4");
        assert_eq!(TrustedProxies::default().client_of(&proxied), Some("10.1.2.3".parse().unwrap()));
        assert_eq!(trusted.client_of(&Request::new(())), None);
    }

    #[test]
    fn ranges_are_read_exactly_and_nonsense_is_named() {
        let trusted = TrustedProxies::parse("192.168.4.0/22,2001:db8::1").unwrap();
        assert!(trusted.trusts("192.168.7.255".parse().unwrap()));
        assert!(!trusted.trusts("192.168.8.0".parse().unwrap()));
        assert!(trusted.trusts("2001:db8::1".parse().unwrap()));
        assert!(!trusted.trusts("2001:db8::2".parse().unwrap()));
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("ingress").is_err());
        assert_eq!(TrustedProxies::parse(" ").unwrap(), TrustedProxies::default());
    }

    #[test]
    fn one_ipv6_network_is_one_client() {
        let a = AddressKey::of(Some("2001:db8:1:2:aaaa::1".parse().unwrap()));
        let b = AddressKey::of(Some("2001:db8:1:2:bbbb::9".parse().unwrap()));
        let c = AddressKey::of(Some("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(
            AddressKey::of(Some("192.0.2.1".parse().unwrap())),
            AddressKey::of(Some("192.0.2.2".parse().unwrap()))
        );
    }
}
