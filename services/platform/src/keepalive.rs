//! How long a connection between the parts may stay silent before it is
//! presumed dead, the same for every channel ([`crate::client`]) and every
//! server ([`crate::serve`]).
//!
//! A proxy, NAT or firewall on the path that forgets a connection drops its
//! packets without a word: TCP alone notices only after minutes of
//! retransmissions, and until then every call on it waits out its deadline and
//! the channel never opens a new connection. So both ends ping over HTTP/2 every
//! [`HTTP2_INTERVAL`], idle or not, and close the connection when a ping goes
//! unanswered for [`HTTP2_TIMEOUT`]: a dead path is found within about fifteen
//! seconds and the next call opens a new connection. TCP keep-alive
//! ([`TCP_IDLE`]) keeps idle connections known to middleboxes that expire quiet
//! ones, and reaps connections whose peer vanished under a server with no HTTP/2
//! ping (the admin port).

use std::time::Duration;

/// An HTTP/2 ping after this long, whether calls are open or not.
pub const HTTP2_INTERVAL: Duration = Duration::from_secs(10);
/// The connection is closed when a ping is not answered within this.
pub const HTTP2_TIMEOUT: Duration = Duration::from_secs(5);
/// TCP keep-alive probes start after the connection is idle this long.
pub const TCP_IDLE: Duration = Duration::from_secs(30);
/// Between TCP keep-alive probes.
pub const TCP_INTERVAL: Duration = Duration::from_secs(10);
/// Unanswered TCP keep-alive probes before the connection is given up.
pub const TCP_RETRIES: u32 = 3;
/// How long opening a connection (TCP and TLS) to another part may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
