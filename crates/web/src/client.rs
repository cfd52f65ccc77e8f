//! Who is asking, as the per-client limits see it: the peer's address, or behind a trusted reverse
//! proxy (`web.trusted_proxies`) the last address in `X-Forwarded-For` that is not one of the proxies.
//! An IPv6 client is its /64, since one host is given a whole /64 and picks addresses from it at will.
//! The limits themselves live here too: per hour ([`RateLimit`](crate::rate_limit::RateLimit)), and
//! live streams held open at once ([`StreamSlots`]).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use lyceum_app::settings::AddressRange;

use crate::{Web, WebError};

/// A client, as limits count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Client(pub IpAddr);

impl Client {
    /// The client behind a connection from `peer` that says it forwards for `forwarded_for`.
    pub fn new(peer: IpAddr, forwarded_for: Option<&str>, proxies: &[AddressRange]) -> Self {
        let trusted = |address: IpAddr| proxies.iter().any(|range| range.contains(address));
        let mut client = peer;
        if trusted(peer) {
            // Each proxy appends the address it saw; the last one no proxy of ours added is the client.
            for hop in forwarded_for.unwrap_or("").rsplit(',') {
                match hop.trim().parse::<IpAddr>() {
                    Ok(address) => {
                        client = address;
                        if !trusted(address) {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        }
        Self(limit_key(client))
    }
}

/// The address a limit counts: IPv4 as it is (also when mapped into IPv6), IPv6 as its /64.
fn limit_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !(u128::MAX >> 64))),
        },
    }
}

impl FromRequestParts<Web> for Client {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, WebError> {
        let ConnectInfo(peer) = ConnectInfo::<SocketAddr>::from_request_parts(parts, web)
            .await
            .map_err(|_| {
                WebError::Internal("the server was started without client addresses".into())
            })?;
        let peer = peer.ip();
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|value| value.to_str().ok());
        Ok(Self::new(
            peer,
            forwarded,
            &web.app.settings.web.trusted_proxies,
        ))
    }
}

/// Live streams held open per client, at most `limit` each.
pub struct StreamSlots {
    limit: u32,
    open: Arc<Mutex<HashMap<Client, u32>>>,
}

/// One open stream; closing it (dropping this) frees its slot.
pub struct StreamSlot {
    client: Client,
    open: Arc<Mutex<HashMap<Client, u32>>>,
}

impl StreamSlots {
    /// At most `limit` streams per client; 0 means no limit.
    pub fn new(limit: u32) -> Self {
        Self {
            limit,
            open: Arc::default(),
        }
    }

    /// A slot for one more stream of `client`, or `TooManyStreams`.
    pub fn open(&self, client: Client) -> Result<StreamSlot, WebError> {
        let mut open = lock(&self.open);
        let count = open.entry(client).or_insert(0);
        if self.limit > 0 && *count >= self.limit {
            return Err(WebError::TooManyStreams);
        }
        *count += 1;
        Ok(StreamSlot {
            client,
            open: Arc::clone(&self.open),
        })
    }

    /// Streams open now, all clients together.
    pub fn open_now(&self) -> u32 {
        lock(&self.open).values().sum()
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = lock(&self.open);
        if let Some(count) = open.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.client);
            }
        }
    }
}

fn lock(open: &Mutex<HashMap<Client, u32>>) -> MutexGuard<'_, HashMap<Client, u32>> {
    open.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(text: &str) -> AddressRange {
        AddressRange::try_from(text.to_owned()).unwrap()
    }

    #[test]
    fn only_a_trusted_proxy_may_say_who_the_client_is() {
        let proxies = [range("10.0.0.0/8")];
        let client = |peer: &str, forwarded: Option<&str>| {
            Client::new(peer.parse().unwrap(), forwarded, &proxies)
                .0
                .to_string()
        };
        assert_eq!(client("10.0.0.2", Some("203.0.113.9")), "203.0.113.9");
        assert_eq!(
            client("10.0.0.2", Some("198.51.100.1, 203.0.113.9, 10.0.0.3")),
            "203.0.113.9",
            "the client's own claim (first) is not believed; the hop our proxy saw is"
        );
        assert_eq!(client("203.0.113.5", Some("198.51.100.1")), "203.0.113.5");
        assert_eq!(client("10.0.0.2", None), "10.0.0.2");
        assert_eq!(client("10.0.0.2", Some("garbage")), "10.0.0.2");
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        let client = |peer: &str| Client::new(peer.parse().unwrap(), None, &[]);
        assert_eq!(client("2001:db8:1:2::1"), client("2001:db8:1:2:ffff::9"));
        assert_ne!(client("2001:db8:1:2::1"), client("2001:db8:1:3::1"));
        assert_eq!(client("::ffff:192.0.2.1").0.to_string(), "192.0.2.1");
    }

    #[test]
    fn a_client_holds_at_most_its_streams_and_closing_one_frees_it() {
        let slots = StreamSlots::new(2);
        let one = Client("192.0.2.1".parse().unwrap());
        let two = Client("192.0.2.2".parse().unwrap());
        let first = slots.open(one).unwrap();
        let _second = slots.open(one).unwrap();
        assert!(matches!(slots.open(one), Err(WebError::TooManyStreams)));
        assert!(slots.open(two).is_ok(), "another client is not affected");
        drop(first);
        assert!(slots.open(one).is_ok());
    }

    proptest::proptest! {
        #[test]
        fn any_forwarded_header_names_a_client_and_never_panics(
            header in proptest::prelude::any::<String>(),
            peer in proptest::prelude::any::<[u8; 4]>(),
        ) {
            let proxies = [range("0.0.0.0/0"), range("::/0")];
            let _ = Client::new(IpAddr::from(peer), Some(&header), &proxies);
            let _ = Client::new(IpAddr::from(peer), Some(&header), &[]);
        }
    }
}
