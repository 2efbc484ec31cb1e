//! The egress guard: every connection the platform opens on a tenant's behalf (git clones
//! now; pipelines' HTTP nodes and webhooks later) asks it first, so a tenant cannot make
//! Switchyard reach its own network, the cloud's metadata service, or anything else an
//! outsider could not reach.
//!
//! The rule: `https` (and `http` only where the operator allows it) to **public** addresses.
//! Loopback, private, shared (carrier-grade NAT), link-local, metadata, unique-local,
//! multicast, unspecified, documentation and reserved addresses are refused — checked on
//! the addresses a name resolves to, not on the name, and the caller connects to the
//! address that was checked ([`Destination::pinned`]), so a second DNS answer cannot swap
//! in another one. Redirects are the caller's to refuse or to check again here.
//!
//! The operator widens the rule with `EGRESS_ALLOW` (hosts, addresses and networks, each
//! with an optional port) and `EGRESS_ALLOW_HTTP`.

use ipnet::IpNet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use url::{Host, Url};

/// What an IP address is, as far as the egress rule cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressClass {
    /// Reachable on the internet: allowed.
    Public,
    /// `127.0.0.0/8`, `::1`: this machine.
    Loopback,
    /// `10/8`, `172.16/12`, `192.168/16`, `fec0::/10`: a private network.
    Private,
    /// `100.64.0.0/10`: carrier-grade NAT, private in practice.
    SharedNat,
    /// `169.254/16`, `fe80::/10`: the local link.
    LinkLocal,
    /// Cloud metadata services (`169.254.169.254`, `fd00:ec2::254`, `100.100.100.200`).
    Metadata,
    /// `fc00::/7`: IPv6 private networks.
    UniqueLocal,
    /// Multicast and broadcast.
    Multicast,
    /// `0.0.0.0/8`, `::`: "this host" to most stacks.
    Unspecified,
    /// Documentation, benchmarking, protocol-assignment and future-use ranges, and IPv6
    /// transition forms that carry an address this guard cannot see through.
    Reserved,
}

impl AddressClass {
    /// The class of `ip`. IPv4 addresses inside IPv6 (mapped, NAT64, 6to4) are classed by
    /// the IPv4 address they carry.
    pub fn of(ip: IpAddr) -> AddressClass {
        match ip {
            IpAddr::V4(v4) => Self::of_v4(v4),
            IpAddr::V6(v6) => Self::of_v6(v6),
        }
    }

    fn of_v4(ip: Ipv4Addr) -> AddressClass {
        let [a, b, c, _] = ip.octets();
        if ip == Ipv4Addr::new(169, 254, 169, 254) || ip == Ipv4Addr::new(100, 100, 100, 200) {
            return AddressClass::Metadata;
        }
        match (a, b, c) {
            (0, ..) => AddressClass::Unspecified,
            (127, ..) => AddressClass::Loopback,
            (10, ..) | (172, 16..=31, _) | (192, 168, _) => AddressClass::Private,
            (100, 64..=127, _) => AddressClass::SharedNat,
            (169, 254, _) => AddressClass::LinkLocal,
            (224..=239, ..) | (255, 255, 255) => AddressClass::Multicast,
            // Protocol assignments, documentation, benchmarking, 6to4 relays, future use.
            (192, 0, 0) | (192, 0, 2) | (198, 51, 100) | (203, 0, 113) | (192, 88, 99) => {
                AddressClass::Reserved
            }
            (198, 18..=19, _) | (240..=255, ..) => AddressClass::Reserved,
            _ => AddressClass::Public,
        }
    }

    fn of_v6(ip: Ipv6Addr) -> AddressClass {
        if let Some(v4) = ip.to_ipv4_mapped() {
            return Self::of_v4(v4);
        }
        let s = ip.segments();
        if ip.is_unspecified() {
            return AddressClass::Unspecified;
        }
        if ip.is_loopback() {
            return AddressClass::Loopback;
        }
        if s == [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254] {
            return AddressClass::Metadata;
        }
        match s[0] {
            // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
            0x64 if s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] => {
                Self::of_v4(embedded_v4(s[6], s[7]))
            }
            // 6to4 (2002::/16) carries one in bits 16 to 48.
            0x2002 => Self::of_v4(embedded_v4(s[1], s[2])),
            // Teredo and documentation; IPv4-compatible and other `::/8` forms.
            0x2001 if s[1] == 0 || s[1] == 0xdb8 => AddressClass::Reserved,
            0..=0xff => AddressClass::Reserved,
            0xfc00..=0xfdff => AddressClass::UniqueLocal,
            0xfe80..=0xfebf => AddressClass::LinkLocal,
            0xfec0..=0xfeff => AddressClass::Private,
            0xff00..=0xffff => AddressClass::Multicast,
            _ => AddressClass::Public,
        }
    }

    /// In a sentence: "a loopback address".
    pub fn describe(self) -> &'static str {
        match self {
            AddressClass::Public => "a public address",
            AddressClass::Loopback => "a loopback address",
            AddressClass::Private => "a private network address",
            AddressClass::SharedNat => "a shared (carrier-grade NAT) address",
            AddressClass::LinkLocal => "a link-local address",
            AddressClass::Metadata => "a cloud metadata address",
            AddressClass::UniqueLocal => "a unique-local address",
            AddressClass::Multicast => "a multicast or broadcast address",
            AddressClass::Unspecified => "an unspecified address",
            AddressClass::Reserved => "a reserved address",
        }
    }
}

fn embedded_v4(high: u16, low: u16) -> Ipv4Addr {
    let [a, b] = high.to_be_bytes();
    let [c, d] = low.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

/// Why a destination was refused; each reads as a sentence for the person who asked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EgressError {
    /// Not a URL at all.
    #[error("is not a valid URL")]
    Invalid,
    /// A scheme other than https (or http where allowed).
    #[error("must be an {allowed} URL")]
    Scheme {
        /// What is allowed, for the message.
        allowed: &'static str,
    },
    /// `user:password@` inside the URL.
    #[error("must not carry a user name or password; store the credential as a workspace secret and name it in `credential`")]
    Credentials,
    /// No host, or no port the scheme implies.
    #[error("must name a host")]
    NoHost,
    /// The name does not resolve.
    #[error("names the host {host}, which does not resolve")]
    NotResolved {
        /// The host as written.
        host: String,
    },
    /// The host is, or resolves to, an address the rule refuses.
    #[error("reaches {host}, which is {}; Switchyard connects only to public addresses unless the operator allows more with EGRESS_ALLOW", class.describe())]
    Refused {
        /// The host as written.
        host: String,
        /// What it resolved to.
        class: AddressClass,
    },
}

/// One entry of `EGRESS_ALLOW`.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Allowed {
    /// A host name (lowercase), with any address it resolves to.
    Host { name: String, port: Option<u16> },
    /// An address or a network.
    Net { net: IpNet, port: Option<u16> },
}

impl Allowed {
    fn port_matches(rule: Option<u16>, port: u16) -> bool {
        rule.is_none_or(|p| p == port)
    }
}

impl FromStr for Allowed {
    type Err = String;

    /// `host`, `host:port`, `1.2.3.4`, `1.2.3.4:443`, `10.0.0.0/8`, `[::1]:8080`, `fd00::/8`.
    fn from_str(raw: &str) -> Result<Allowed, String> {
        let raw = raw.trim();
        let bad = || format!("{raw:?} is not a host, address or network (with an optional :port)");
        if let Ok(net) = raw.parse::<IpNet>() {
            return Ok(Allowed::Net { net, port: None });
        }
        if let Ok(ip) = raw.parse::<IpAddr>() {
            return Ok(Allowed::Net {
                net: IpNet::from(ip),
                port: None,
            });
        }
        if let Ok(addr) = raw.parse::<SocketAddr>() {
            return Ok(Allowed::Net {
                net: IpNet::from(addr.ip()),
                port: Some(addr.port()),
            });
        }
        let (name, port) = match raw.rsplit_once(':') {
            Some((name, port)) => (name, Some(port.parse::<u16>().map_err(|_| bad())?)),
            None => (raw, None),
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let valid = !name.is_empty()
            && name.len() <= 253
            && name
                .split('.')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        if !valid {
            return Err(bad());
        }
        Ok(Allowed::Host { name, port })
    }
}

/// The egress rule in force: which schemes, and what the operator allows beyond public
/// addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    allow_http: bool,
    allowed: Vec<Allowed>,
}

/// A destination the guard accepted: where to connect, by address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    /// The URL as checked.
    pub url: Url,
    /// Its host as written (a name or an address).
    pub host: String,
    /// The port (explicit or the scheme's).
    pub port: u16,
    /// The checked addresses, in the resolver's order; connect only to these.
    pub addrs: Vec<SocketAddr>,
}

impl Destination {
    /// The address to connect to: the first one checked (`None` only for a destination
    /// built by hand with no addresses, which must then not be connected to at all).
    pub fn pinned(&self) -> Option<SocketAddr> {
        self.addrs.first().copied()
    }
}

impl EgressPolicy {
    /// Public https only: the default.
    pub fn public_https() -> EgressPolicy {
        EgressPolicy::default()
    }

    /// From `EGRESS_ALLOW` (comma-separated hosts, addresses, networks, each with an
    /// optional `:port`) and `EGRESS_ALLOW_HTTP` (`true` allows plain http too).
    pub fn from_env() -> Result<EgressPolicy, String> {
        let allow = std::env::var("EGRESS_ALLOW").unwrap_or_default();
        let http = std::env::var("EGRESS_ALLOW_HTTP").unwrap_or_default();
        let allow_http = match http.trim() {
            "" | "false" | "0" => false,
            "true" | "1" => true,
            other => return Err(format!("EGRESS_ALLOW_HTTP: {other:?} is not true or false")),
        };
        EgressPolicy::new(&allow, allow_http).map_err(|e| format!("EGRESS_ALLOW: {e}"))
    }

    /// A policy allowing the comma-separated entries of `allow` beyond public addresses,
    /// and plain http when `allow_http`.
    pub fn new(allow: &str, allow_http: bool) -> Result<EgressPolicy, String> {
        let allowed = allow
            .split(',')
            .filter(|e| !e.trim().is_empty())
            .map(str::parse)
            .collect::<Result<Vec<Allowed>, String>>()?;
        Ok(EgressPolicy {
            allow_http,
            allowed,
        })
    }

    /// Whether plain http is allowed.
    pub fn allows_http(&self) -> bool {
        self.allow_http
    }

    /// The checks that need no DNS: scheme, credentials, a host, and a literal address's
    /// class. For an immediate answer when a URL is registered; [`EgressPolicy::resolve`]
    /// checks again, fully, when it is fetched.
    pub fn check_url(&self, raw: &str) -> Result<(Url, String, u16), EgressError> {
        let url = Url::parse(raw.trim()).map_err(|_| EgressError::Invalid)?;
        let allowed = if self.allow_http {
            "https:// or http://"
        } else {
            "https://"
        };
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            _ => return Err(EgressError::Scheme { allowed }),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(EgressError::Credentials);
        }
        let port = url.port_or_known_default().ok_or(EgressError::NoHost)?;
        let host = match url.host() {
            Some(Host::Domain(name)) => name.trim_end_matches('.').to_ascii_lowercase(),
            Some(Host::Ipv4(ip)) => {
                self.check_addr(&ip.to_string(), SocketAddr::new(ip.into(), port))?;
                ip.to_string()
            }
            Some(Host::Ipv6(ip)) => {
                self.check_addr(&ip.to_string(), SocketAddr::new(ip.into(), port))?;
                ip.to_string()
            }
            None => return Err(EgressError::NoHost),
        };
        Ok((url, host, port))
    }

    /// Checks `raw` fully: [`EgressPolicy::check_url`], then every address its host
    /// resolves to. Answers where to connect.
    pub async fn resolve(&self, raw: &str) -> Result<Destination, EgressError> {
        let (url, host, port) = self.check_url(raw)?;
        let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((host.as_str(), port))
                .await
                .map_err(|_| EgressError::NotResolved { host: host.clone() })?
                .collect(),
        };
        if addrs.is_empty() {
            return Err(EgressError::NotResolved { host });
        }
        if !self.host_allowed(&host, port) {
            for addr in &addrs {
                self.check_addr(&host, *addr)?;
            }
        }
        Ok(Destination {
            url,
            host,
            port,
            addrs,
        })
    }

    /// An address is fine when it is public or the operator allowed it.
    fn check_addr(&self, host: &str, addr: SocketAddr) -> Result<(), EgressError> {
        let class = AddressClass::of(addr.ip());
        if class == AddressClass::Public
            || self.addr_allowed(addr)
            || self.host_allowed(host, addr.port())
        {
            return Ok(());
        }
        Err(EgressError::Refused {
            host: host.to_owned(),
            class,
        })
    }

    fn addr_allowed(&self, addr: SocketAddr) -> bool {
        self.allowed.iter().any(|rule| match rule {
            Allowed::Net { net, port } => {
                net.contains(&addr.ip()) && Allowed::port_matches(*port, addr.port())
            }
            Allowed::Host { .. } => false,
        })
    }

    fn host_allowed(&self, host: &str, port: u16) -> bool {
        self.allowed.iter().any(|rule| match rule {
            Allowed::Host { name, port: p } => name == host && Allowed::port_matches(*p, port),
            Allowed::Net { .. } => false,
        })
    }
}

impl fmt::Display for AddressClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(ip: &str) -> AddressClass {
        AddressClass::of(ip.parse().unwrap())
    }

    #[test]
    fn addresses_are_classed_by_their_range() {
        let cases = [
            ("8.8.8.8", AddressClass::Public),
            ("140.82.112.3", AddressClass::Public),
            ("127.0.0.1", AddressClass::Loopback),
            ("127.255.255.254", AddressClass::Loopback),
            ("10.0.0.1", AddressClass::Private),
            ("172.16.0.1", AddressClass::Private),
            ("172.31.255.255", AddressClass::Private),
            ("172.32.0.1", AddressClass::Public),
            ("192.168.1.1", AddressClass::Private),
            ("100.64.0.1", AddressClass::SharedNat),
            ("100.128.0.1", AddressClass::Public),
            ("169.254.1.1", AddressClass::LinkLocal),
            ("169.254.169.254", AddressClass::Metadata),
            ("100.100.100.200", AddressClass::Metadata),
            ("0.0.0.0", AddressClass::Unspecified),
            ("0.1.2.3", AddressClass::Unspecified),
            ("224.0.0.1", AddressClass::Multicast),
            ("255.255.255.255", AddressClass::Multicast),
            ("240.0.0.1", AddressClass::Reserved),
            ("192.0.2.1", AddressClass::Reserved),
            ("198.18.0.1", AddressClass::Reserved),
            ("::1", AddressClass::Loopback),
            ("::", AddressClass::Unspecified),
            ("fe80::1", AddressClass::LinkLocal),
            ("fc00::1", AddressClass::UniqueLocal),
            ("fd12:3456::1", AddressClass::UniqueLocal),
            ("fd00:ec2::254", AddressClass::Metadata),
            ("fec0::1", AddressClass::Private),
            ("ff02::1", AddressClass::Multicast),
            ("2001:db8::1", AddressClass::Reserved),
            ("2001::1", AddressClass::Reserved),
            ("::127.0.0.1", AddressClass::Reserved),
            ("2606:4700::1111", AddressClass::Public),
        ];
        for (ip, expected) in cases {
            assert_eq!(class(ip), expected, "{ip}");
        }
    }

    #[test]
    fn ipv4_inside_ipv6_is_classed_by_the_ipv4_address() {
        assert_eq!(class("::ffff:127.0.0.1"), AddressClass::Loopback);
        assert_eq!(class("::ffff:169.254.169.254"), AddressClass::Metadata);
        assert_eq!(class("::ffff:10.1.2.3"), AddressClass::Private);
        assert_eq!(class("::ffff:8.8.8.8"), AddressClass::Public);
        assert_eq!(class("64:ff9b::a9fe:a9fe"), AddressClass::Metadata);
        assert_eq!(class("64:ff9b::808:808"), AddressClass::Public);
        assert_eq!(class("2002:7f00:1::"), AddressClass::Loopback);
        assert_eq!(class("2002:c0a8:101::"), AddressClass::Private);
    }

    #[test]
    fn only_https_without_credentials_passes_by_default() {
        let policy = EgressPolicy::public_https();
        assert!(policy.check_url("https://github.com/org/repo.git").is_ok());
        let refused = [
            (
                "http://github.com/org/repo.git",
                EgressError::Scheme {
                    allowed: "https://",
                },
            ),
            (
                "ssh://git@github.com/org/repo.git",
                EgressError::Scheme {
                    allowed: "https://",
                },
            ),
            (
                "git://github.com/org/repo",
                EgressError::Scheme {
                    allowed: "https://",
                },
            ),
            (
                "file:///etc",
                EgressError::Scheme {
                    allowed: "https://",
                },
            ),
            // scp-style is not a URL at all (the server's checks name it as ssh).
            ("git@github.com:org/repo.git", EgressError::Invalid),
            (
                "https://user:token@github.com/org/repo.git",
                EgressError::Credentials,
            ),
            (
                "https://token@github.com/org/repo.git",
                EgressError::Credentials,
            ),
            ("not a url", EgressError::Invalid),
        ];
        for (url, expected) in refused {
            assert_eq!(policy.check_url(url).unwrap_err(), expected, "{url}");
        }
    }

    #[test]
    fn literal_addresses_are_refused_before_any_lookup() {
        let policy = EgressPolicy::public_https();
        for (url, class) in [
            (
                "https://169.254.169.254/latest/meta-data",
                AddressClass::Metadata,
            ),
            ("https://127.0.0.1:3000/x.git", AddressClass::Loopback),
            ("https://10.0.0.1/x.git", AddressClass::Private),
            ("https://[::1]/x.git", AddressClass::Loopback),
            ("https://[::ffff:a9fe:a9fe]/", AddressClass::Metadata),
            ("https://0x7f.1/x.git", AddressClass::Loopback),
            ("https://2130706433/x.git", AddressClass::Loopback),
        ] {
            match policy.check_url(url) {
                Err(EgressError::Refused { class: c, .. }) => assert_eq!(c, class, "{url}"),
                other => panic!("{url}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_operator_allows_hosts_addresses_and_networks_with_ports() {
        let policy = EgressPolicy::new(
            "127.0.0.1:8443, git.internal, 10.20.0.0/16, [::1]:9000",
            true,
        )
        .unwrap();
        assert!(policy.check_url("https://127.0.0.1:8443/x.git").is_ok());
        assert!(policy.check_url("http://127.0.0.1:8443/x.git").is_ok());
        assert!(matches!(
            policy.check_url("https://127.0.0.1:8444/x.git"),
            Err(EgressError::Refused { .. })
        ));
        assert!(policy.check_url("https://10.20.3.4/x.git").is_ok());
        assert!(policy.check_url("https://10.21.3.4/x.git").is_err());
        assert!(policy.check_url("https://[::1]:9000/x").is_ok());
        assert!(policy.check_url("https://[::1]:9001/x").is_err());
        assert!(policy.host_allowed("git.internal", 443));
        assert!(!policy.host_allowed("git.internal.evil", 443));
        assert!(EgressPolicy::new("not a host!", false).is_err());
        assert!(EgressPolicy::new("host:notaport", false).is_err());
    }

    #[tokio::test]
    async fn names_are_checked_by_the_addresses_they_resolve_to() {
        let policy = EgressPolicy::public_https();
        // `localhost` resolves to loopback without leaving the machine.
        match policy.resolve("https://localhost:9/x.git").await {
            Err(EgressError::Refused { host, class }) => {
                assert_eq!(host, "localhost");
                assert_eq!(class, AddressClass::Loopback);
            }
            other => panic!("{other:?}"),
        }
        let allowed = EgressPolicy::new("localhost:9", false).unwrap();
        let dest = allowed.resolve("https://localhost:9/x.git").await.unwrap();
        assert_eq!((dest.host.as_str(), dest.port), ("localhost", 9));
        assert!(dest
            .addrs
            .iter()
            .all(|a| a.ip().is_loopback() && a.port() == 9));
        let by_net = EgressPolicy::new("127.0.0.0/8", false).unwrap();
        let dest = by_net.resolve("https://127.0.0.1:9/x.git").await.unwrap();
        assert_eq!(dest.pinned(), Some("127.0.0.1:9".parse().unwrap()));
    }
}
