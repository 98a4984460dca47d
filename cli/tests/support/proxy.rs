//! A TCP proxy on loopback that a test puts on the link between two parts, to
//! cut the link (open connections dropped, new ones closed at once), slow it
//! (each chunk held back before it is passed on), hold it (nothing passed on
//! until released, so a call is known to be in flight) or blackhole it (the
//! connections open now pass nothing more, ever, and are not closed: what a
//! firewall or NAT that forgot them does; new connections pass). Bytes pass as
//! they are, so TLS between the parts is untouched.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

struct State {
    cut: AtomicBool,
    delay_ms: AtomicU64,
    /// While true, chunks wait before they are passed on.
    held: watch::Sender<bool>,
    /// While true, chunks from the upstream (its answers) wait before they are passed on.
    held_answers: watch::Sender<bool>,
    /// While set, a chunk to the upstream that contains these bytes waits
    /// (and so does everything after it on its connection).
    held_sending: watch::Sender<Option<Vec<u8>>>,
    /// Chunks waiting now.
    waiting: AtomicUsize,
    /// Bumped on each cut: every open connection watching it closes.
    generation: watch::Sender<u64>,
    connections: AtomicUsize,
    /// Connections made so far; each is numbered in order.
    made: AtomicU64,
    /// Connections numbered below this are blackholed.
    blackholed_below: AtomicU64,
    /// Blackholed connections that the caller, or the upstream, closed by itself.
    closed_by_caller: AtomicUsize,
    closed_by_upstream: AtomicUsize,
}

impl State {
    fn blackholed(&self, connection: u64) -> bool {
        connection < self.blackholed_below.load(Ordering::SeqCst)
    }
}

/// A proxy to one upstream address, stopped when dropped.
pub struct LinkProxy {
    port: u16,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LinkProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.state.generation.send_modify(|g| *g += 1);
    }
}

impl LinkProxy {
    /// Listens on an ephemeral loopback port and passes connections to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy binds");
        let port = listener.local_addr().expect("address").port();
        let state = Arc::new(State {
            cut: AtomicBool::new(false),
            delay_ms: AtomicU64::new(0),
            held: watch::channel(false).0,
            held_answers: watch::channel(false).0,
            held_sending: watch::channel(None).0,
            waiting: AtomicUsize::new(0),
            generation: watch::channel(0).0,
            connections: AtomicUsize::new(0),
            made: AtomicU64::new(0),
            blackholed_below: AtomicU64::new(0),
            closed_by_caller: AtomicUsize::new(0),
            closed_by_upstream: AtomicUsize::new(0),
        });
        let shared = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((inbound, _)) = listener.accept().await else { continue };
                if shared.cut.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let state = shared.clone();
                tokio::spawn(async move {
                    let Ok(outbound) = TcpStream::connect(upstream).await else { return };
                    let _ = inbound.set_nodelay(true);
                    let _ = outbound.set_nodelay(true);
                    state.connections.fetch_add(1, Ordering::SeqCst);
                    let number = state.made.fetch_add(1, Ordering::SeqCst);
                    let mut cut = state.generation.subscribe();
                    let (mut in_read, mut in_write) = inbound.into_split();
                    let (mut out_read, mut out_write) = outbound.into_split();
                    let up = pass(&mut in_read, &mut out_write, &state, false, number);
                    let down = pass(&mut out_read, &mut in_write, &state, true, number);
                    tokio::select! {
                        () = both_ways(up, down, &state, number) => {},
                        _ = cut.changed() => {},
                    }
                    state.connections.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Self { port, state, task }
    }

    /// The port callers connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Drops every open connection and closes new ones at once, until [`Self::restore`].
    pub fn cut(&self) {
        self.state.cut.store(true, Ordering::SeqCst);
        self.state.generation.send_modify(|g| *g += 1);
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.state.cut.store(false, Ordering::SeqCst);
    }

    /// Holds back each chunk, in each direction, for `delay` before passing it on.
    pub fn set_delay(&self, delay: Duration) {
        self.state.delay_ms.store(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX), Ordering::SeqCst);
    }

    /// Holds every chunk from now on until [`Self::release`].
    pub fn hold(&self) {
        self.state.held.send_replace(true);
    }

    /// Holds every chunk the upstream answers with from now on, until
    /// [`Self::release`]: what the caller sent is done, the answer does not come.
    pub fn hold_answers(&self) {
        self.state.held_answers.send_replace(true);
    }

    /// Holds the first chunk sent to the upstream that contains `bytes`, and
    /// what follows it on its connection, until [`Self::release`]; the rest
    /// passes. So a test knows that one call of its own, not any other, is
    /// in flight.
    pub fn hold_sending(&self, bytes: &[u8]) {
        self.state.held_sending.send_replace(Some(bytes.to_vec()));
    }

    /// Passes the held chunks on, and every chunk after them.
    pub fn release(&self) {
        self.state.held.send_replace(false);
        self.state.held_answers.send_replace(false);
        self.state.held_sending.send_replace(None);
    }

    /// Waits until a chunk is being held: something is in flight over the link.
    pub async fn wait_for_held(&self, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        while self.state.waiting.load(Ordering::SeqCst) == 0 {
            assert!(tokio::time::Instant::now() < deadline, "nothing went over the link within {within:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// From now on the connections open now pass nothing in either direction
    /// and stay open (whatever arrives is read and dropped), until each end
    /// gives up on its own; connections made later pass as usual.
    pub fn blackhole(&self) {
        self.state.blackholed_below.store(self.state.made.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    /// Connections made through the proxy so far.
    pub fn connections_made(&self) -> u64 {
        self.state.made.load(Ordering::SeqCst)
    }

    /// Blackholed connections that the caller closed by itself, and that the
    /// upstream closed by itself.
    pub fn blackholed_closed(&self) -> (usize, usize) {
        (self.state.closed_by_caller.load(Ordering::SeqCst), self.state.closed_by_upstream.load(Ordering::SeqCst))
    }

    /// Connections open through the proxy now.
    pub fn open_connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }
}

/// Passes both ways until either side closes; once the connection is
/// blackholed, until each side has closed by itself (the other never learns of
/// it), counting who closed.
async fn both_ways(
    up: impl std::future::Future<Output = std::io::Result<()>>,
    down: impl std::future::Future<Output = std::io::Result<()>>,
    state: &State,
    number: u64,
) {
    tokio::pin!(up, down);
    let caller_first = tokio::select! {
        _ = &mut up => true,
        _ = &mut down => false,
    };
    if !state.blackholed(number) {
        return;
    }
    let counted = |caller: bool| {
        let closed = if caller { &state.closed_by_caller } else { &state.closed_by_upstream };
        closed.fetch_add(1, Ordering::SeqCst);
    };
    counted(caller_first);
    if caller_first {
        let _ = down.await;
    } else {
        let _ = up.await;
    }
    counted(!caller_first);
}

async fn pass(
    from: &mut tokio::net::tcp::OwnedReadHalf,
    to: &mut tokio::net::tcp::OwnedWriteHalf,
    state: &State,
    answers: bool,
    number: u64,
) -> std::io::Result<()> {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = from.read(&mut buffer).await?;
        if read == 0 {
            if state.blackholed(number) {
                // The other side must not learn of it: a blackhole says nothing.
                return Ok(());
            }
            return to.shutdown().await;
        }
        if state.blackholed(number) {
            continue;
        }
        let hold = if answers { &state.held_answers } else { &state.held };
        let sending =
            !answers && state.held_sending.borrow().as_deref().is_some_and(|bytes| contains(&buffer[..read], bytes));
        if sending {
            state.waiting.fetch_add(1, Ordering::SeqCst);
            let _waiting = Waiting(&state.waiting);
            let _ = state.held_sending.subscribe().wait_for(Option::is_none).await;
        }
        if *state.held.borrow() || *hold.borrow() {
            state.waiting.fetch_add(1, Ordering::SeqCst);
            let _waiting = Waiting(&state.waiting);
            let (mut all, mut these) = (state.held.subscribe(), hold.subscribe());
            let _ = all.wait_for(|held| !*held).await;
            let _ = these.wait_for(|held| !*held).await;
        }
        let delay = state.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        to.write_all(&buffer[..read]).await?;
    }
}

/// Counts a chunk while it waits, even when a cut drops it waiting.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|window| window == needle)
}
