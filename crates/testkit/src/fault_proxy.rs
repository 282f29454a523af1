//! A TCP proxy between real clients and the real server that breaks the network on purpose,
//! for the fault scenarios: a request lost on the way, an answer lost after the server acted,
//! a response cut mid-body, a request delivered twice, a server that refuses connections,
//! and a request or a response held until the test lets go (to kill a client at an exact
//! moment: after the server acted, before the client heard).
//!
//! Faults apply per HTTP/1.1 request, not per connection: clients keep connections alive, so
//! the proxy reads just enough framing (the head, then `Content-Length` or chunked bodies, or
//! until close) to know where each request and each response ends. Bodies are relayed as they
//! arrive, so a never-ending event stream (SSE) passes through untouched. Not supported:
//! pipelined requests beyond buffering them, `Expect: 100-continue`, 1xx answers, upgrades,
//! and a client that half-closes its side while awaiting a response (taken for gone).
//!
//! When the server itself is down behind an online proxy, a client's connection is accepted
//! and then reset; [`FaultProxy::offline`] is what makes connections refused.
//!
//! A test waits on what the proxy saw ([`Observed`]) with a deadline, never on a sleep.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::tcp::ReadHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

/// A request or response head larger than this is refused (the connection is reset).
const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 64;
/// How long [`FaultProxy::offline`] and [`FaultProxy::reset_connections`] wait for the
/// connections they end; ending one takes no I/O, so this only bounds a bug.
const ENDING: Duration = Duration::from_secs(10);

/// What happens to one request on its way through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Forwarded both ways untouched, the response streamed as it comes.
    Pass,
    /// Read from the client and never sent on: the server never hears of it, and the client's
    /// connection is reset.
    DropRequest,
    /// The request reaches the server; the response head and at most `body_bytes` bytes of its
    /// body (as on the wire, chunk framing included) reach the client, then the client's
    /// connection is reset. A shorter body arrives whole before the reset.
    CutResponseAfter { body_bytes: usize },
    /// The request reaches the server; the proxy reads the complete response, discards it and
    /// resets the client's connection: the server did the work, the client never hears.
    DropResponse,
    /// The request reaches the server twice, on two connections one after the other; the
    /// client gets the first answer once the second is complete. Buffers both responses, so
    /// not for never-ending ones.
    DuplicateRequest,
    /// Read from the client and held until [`FaultProxy::release`], then carried as `Pass`:
    /// the test acts (moves the clock, stops something) while the request is on its way.
    HoldRequest,
    /// The request reaches the server; its complete response is read and held until
    /// [`FaultProxy::release`], then sent on: the server has acted and the client has not
    /// heard yet, for as long as the test needs (to kill the client, say). Buffers the
    /// response, so not for never-ending ones.
    HoldResponse,
}

/// One request the proxy read from a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// `GET`, `POST`, …
    pub method: String,
    /// The request target as sent: path and query.
    pub target: String,
    pub fault: Fault,
}

/// What the proxy has seen so far; counts only grow (except the open connections).
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub connections_accepted: usize,
    pub connections_open: usize,
    /// Every request read from a client, in order, with the fault it got.
    pub requests: Vec<Exchange>,
    /// Requests written to the server: a duplicated one counts twice, a dropped one not at all.
    pub forwarded: usize,
    /// Complete responses read from the server, including discarded ones.
    pub answered: usize,
    pub bytes_to_server: u64,
    pub bytes_to_client: u64,
    /// Requests or responses that reached their hold ([`Fault::HoldRequest`],
    /// [`Fault::HoldResponse`]), released or not.
    pub held: usize,
}

/// The proxy; listens on 127.0.0.1 on a port of its own until dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accepting: Mutex<Option<Accepting>>,
}

struct Accepting {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

struct Shared {
    upstream: SocketAddr,
    control: Mutex<Control>,
    observed: watch::Sender<Observed>,
    /// Bumped to reset every open connection.
    reset: watch::Sender<u64>,
    /// Bumped to let go of everything held.
    released: watch::Sender<u64>,
    /// The tasks of the connections, to await the ones a reset ends.
    connections: Mutex<Vec<JoinHandle<()>>>,
}

struct Control {
    standing: Fault,
    queue: VecDeque<Once>,
    latency: Duration,
}

/// A fault for the next request whose `METHOD target` starts with `on` (any when `None`).
struct Once {
    on: Option<String>,
    fault: Fault,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (the server's address), passing everything through.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the fault proxy");
        let addr = listener.local_addr().expect("the fault proxy's address");
        let proxy = Self {
            addr,
            shared: Arc::new(Shared {
                upstream,
                control: Mutex::new(Control {
                    standing: Fault::Pass,
                    queue: VecDeque::new(),
                    latency: Duration::ZERO,
                }),
                observed: watch::Sender::new(Observed::default()),
                reset: watch::Sender::new(0),
                released: watch::Sender::new(0),
                connections: Mutex::new(Vec::new()),
            }),
            accepting: Mutex::new(None),
        };
        proxy.accept_on(listener);
        proxy
    }

    /// Where clients connect; the same across [`offline`](Self::offline) and
    /// [`online`](Self::online).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the server's URL as the clients should know it.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The fault for every request that no [`once`](Self::once) fault claims.
    pub fn set(&self, fault: Fault) {
        lock(&self.shared.control).standing = fault;
    }

    /// The fault for the next request, whatever it is (queued after earlier ones).
    pub fn once(&self, fault: Fault) {
        lock(&self.shared.control)
            .queue
            .push_back(Once { on: None, fault });
    }

    /// The fault for the next request whose `METHOD target` starts with `request`, e.g.
    /// `"POST /v1/mutations"` or `"GET /v1/sync?"`; other requests pass it by.
    pub fn once_on(&self, request: &str, fault: Fault) {
        lock(&self.shared.control).queue.push_back(Once {
            on: Some(request.to_owned()),
            fault,
        });
    }

    /// Lets go of every request and response held so far ([`Fault::HoldRequest`],
    /// [`Fault::HoldResponse`]), including those whose fault was picked and that have not
    /// reached their hold yet.
    pub fn release(&self) {
        self.shared.released.send_modify(|epoch| *epoch += 1);
    }

    /// Holds every request this long before sending it on (zero by default).
    pub fn set_latency(&self, latency: Duration) {
        lock(&self.shared.control).latency = latency;
    }

    /// The server goes away: the port is closed (new connections are refused) and every open
    /// connection is reset. Returns once both are true.
    pub async fn offline(&self) {
        let accepting = lock(&self.accepting).take();
        if let Some(Accepting { stop, task }) = accepting {
            let _ = stop.send(());
            let _ = task.await;
        }
        self.reset_connections().await;
    }

    /// Listens again on the same port. Panics when something else took the port meanwhile.
    pub async fn online(&self) {
        if lock(&self.accepting).is_some() {
            return;
        }
        let listener = TcpListener::bind(self.addr)
            .await
            .unwrap_or_else(|e| panic!("the fault proxy rebinds {}: {e}", self.addr));
        self.accept_on(listener);
    }

    /// Resets every open connection (a network blip) and returns once they are closed; new
    /// connections are still accepted.
    pub async fn reset_connections(&self) {
        let ending = {
            // Under the lock the accept loop registers under: no connection is half-counted.
            let mut live = lock(&self.shared.connections);
            self.shared.reset.send_modify(|epoch| *epoch += 1);
            std::mem::take(&mut *live)
        };
        let all = async {
            for task in ending {
                let _ = task.await;
            }
        };
        if tokio::time::timeout(ENDING, all).await.is_err() {
            panic!("the fault proxy's connections did not close within {ENDING:?}");
        }
    }

    /// What the proxy has seen so far.
    pub fn observed(&self) -> Observed {
        self.shared.observed.borrow().clone()
    }

    /// Waits until `done` holds for what the proxy has seen, and returns that; panics naming
    /// `what` (and showing what was seen) when it does not hold within `within`.
    pub async fn wait_until(
        &self,
        within: Duration,
        what: &str,
        mut done: impl FnMut(&Observed) -> bool,
    ) -> Observed {
        let mut seen = self.shared.observed.subscribe();
        match tokio::time::timeout(within, seen.wait_for(|o| done(o))).await {
            Ok(Ok(observed)) => observed.clone(),
            Ok(Err(_)) => unreachable!("the proxy holds the sender"),
            Err(_) => panic!(
                "fault proxy: {what} not seen within {within:?}; saw {:#?}",
                *self.shared.observed.borrow()
            ),
        }
    }

    /// Waits until `n` requests have been read from clients (whatever their fault).
    pub async fn wait_for_requests(&self, n: usize, within: Duration) -> Observed {
        self.wait_until(within, &format!("{n} requests"), |o| o.requests.len() >= n)
            .await
    }

    fn accept_on(&self, listener: TcpListener) {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept(listener, self.shared.clone(), stopped));
        *lock(&self.accepting) = Some(Accepting { stop, task });
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(accepting) = lock(&self.accepting).take() {
            accepting.task.abort();
        }
        self.shared.reset.send_modify(|epoch| *epoch += 1);
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>, mut stopped: oneshot::Receiver<()>) {
    loop {
        let client = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => client,
                Err(_) => continue,
            },
        };
        let _ = client.set_nodelay(true);
        shared.observed.send_modify(|o| {
            o.connections_accepted += 1;
            o.connections_open += 1;
        });
        let mut live = lock(&shared.connections);
        live.retain(|task| !task.is_finished());
        let reset = shared.reset.subscribe();
        live.push(tokio::spawn(connection(client, shared.clone(), reset)));
    }
}

/// How a client connection ends: closed in order, or reset (what the client sees of a fault).
enum End {
    Close,
    Reset,
}

async fn connection(mut client: TcpStream, shared: Arc<Shared>, mut reset: watch::Receiver<u64>) {
    let end = tokio::select! {
        end = serve(&mut client, &shared) => end,
        _ = reset.changed() => End::Reset,
    };
    if let End::Reset = end {
        // Zero linger makes the close an RST: the client sees "connection reset", not a
        // clean end it might take for a complete message.
        let _ = client.set_zero_linger();
    }
    drop(client);
    shared.observed.send_modify(|o| o.connections_open -= 1);
}

/// Serves one client connection: request by request, each over the same upstream connection
/// (opened when first needed, so the server sees the client's keep-alive as it is).
async fn serve(client: &mut TcpStream, shared: &Shared) -> End {
    let mut from_client = Reader::default();
    let mut upstream: Option<Upstream> = None;
    loop {
        let head = tokio::select! {
            head = from_client.read_head(client) => head,
            // The server closed the idle connection: do as it did.
            () = idle_upstream_closed(&mut upstream) => return End::Close,
        };
        let head = match head {
            Ok(Some(head)) => head,
            Ok(None) => return End::Close,
            Err(_) => return End::Reset,
        };
        let Ok(request) = Request::read(head, &mut from_client, client).await else {
            return End::Reset;
        };
        let (fault, latency, release) = shared.next_fault(&request);
        match exchange(
            client,
            &mut from_client,
            &mut upstream,
            &request,
            fault,
            (latency, release),
            shared,
        )
        .await
        {
            Ok(Next::KeepAlive) => {}
            Ok(Next::Close) => return End::Close,
            Ok(Next::Reset) | Err(_) => return End::Reset,
        }
    }
}

async fn idle_upstream_closed(upstream: &mut Option<Upstream>) {
    match upstream {
        // Servers send nothing unasked on an idle HTTP/1.1 connection: whatever wakes this
        // (end of stream, an error, a stray `408`) ends it.
        Some(up) => {
            let _ = up.reader.fill(&mut up.stream).await;
        }
        None => std::future::pending().await,
    }
}

enum Next {
    KeepAlive,
    Close,
    Reset,
}

/// Carries one request to the server and its response back, with `fault` applied.
async fn exchange(
    client: &mut TcpStream,
    from_client: &mut Reader,
    upstream: &mut Option<Upstream>,
    request: &Request,
    fault: Fault,
    (latency, release): (Duration, u64),
    shared: &Shared,
) -> io::Result<Next> {
    if fault == Fault::DropRequest {
        return Ok(Next::Reset);
    }
    if fault == Fault::HoldRequest {
        shared.hold(release).await;
    }
    if !latency.is_zero() {
        // The injected latency itself, not a wait for something to happen.
        tokio::time::sleep(latency).await;
    }
    let up = match upstream {
        Some(up) => up,
        None => upstream.insert(Upstream::connect(shared.upstream).await?),
    };
    up.send(&request.bytes, shared).await?;
    let response = up.read_head(&request.method).await?;
    match fault {
        Fault::DropRequest => return Ok(Next::Reset),
        Fault::Pass | Fault::HoldRequest | Fault::CutResponseAfter { .. } => {
            let budget = match fault {
                Fault::CutResponseAfter { body_bytes } => Some(body_bytes),
                _ => None,
            };
            let (mut from, mut to) = client.split();
            let relay = async {
                to.write_all(&response.head).await?;
                shared.to_client(response.head.len());
                let mut sink = Sink::Client {
                    to: &mut to,
                    left: budget,
                };
                up.relay_body(response.framing, &mut sink, shared).await
            };
            let end = tokio::select! {
                end = relay => end?,
                // The client went away mid-response (it dropped an event stream): so does
                // the server's side.
                () = client_gone(&mut from, from_client) => return Ok(Next::Close),
            };
            shared.observed.send_modify(|o| {
                if end == BodyEnd::Complete {
                    o.answered += 1;
                }
            });
            if budget.is_some() {
                return Ok(Next::Reset);
            }
        }
        Fault::DropResponse => {
            up.relay_body(response.framing, &mut Sink::Discard, shared)
                .await?;
            shared.observed.send_modify(|o| o.answered += 1);
            return Ok(Next::Reset);
        }
        Fault::DuplicateRequest => {
            let mut answer = response.head.clone();
            up.relay_body(response.framing, &mut Sink::Keep(&mut answer), shared)
                .await?;
            shared.observed.send_modify(|o| o.answered += 1);
            let mut again = Upstream::connect(shared.upstream).await?;
            again.send(&request.bytes, shared).await?;
            let second = again.read_head(&request.method).await?;
            again
                .relay_body(second.framing, &mut Sink::Discard, shared)
                .await?;
            shared.observed.send_modify(|o| o.answered += 1);
            client.write_all(&answer).await?;
            shared.to_client(answer.len());
        }
        Fault::HoldResponse => {
            let mut answer = response.head.clone();
            up.relay_body(response.framing, &mut Sink::Keep(&mut answer), shared)
                .await?;
            shared.observed.send_modify(|o| o.answered += 1);
            shared.hold(release).await;
            client.write_all(&answer).await?;
            shared.to_client(answer.len());
        }
    }
    if response.close || response.framing == Framing::UntilClose {
        *upstream = None;
    }
    Ok(if request.close || response.close {
        Next::Close
    } else {
        Next::KeepAlive
    })
}

async fn client_gone(from: &mut ReadHalf<'_>, pending: &mut Reader) {
    // Keeps anything the client sends meanwhile (a pipelined request) for later.
    while let Ok(1..) = pending.fill(from).await {}
}

impl Shared {
    /// Counts a hold and waits until a [`FaultProxy::release`] after `epoch`.
    async fn hold(&self, epoch: u64) {
        self.observed.send_modify(|o| o.held += 1);
        let mut released = self.released.subscribe();
        let _ = released.wait_for(|e| *e > epoch).await;
    }

    /// Picks the fault for `request`, records the exchange, and answers the release epoch a
    /// hold waits past.
    fn next_fault(&self, request: &Request) -> (Fault, Duration, u64) {
        let line = format!("{} {}", request.method, request.target);
        let (fault, latency) = {
            let mut control = lock(&self.control);
            let claimed = control
                .queue
                .iter()
                .position(|o| o.on.as_deref().is_none_or(|on| line.starts_with(on)))
                .and_then(|i| control.queue.remove(i));
            let fault = claimed.map_or_else(|| control.standing.clone(), |o| o.fault);
            (fault, control.latency)
        };
        let release = *self.released.borrow();
        self.observed.send_modify(|o| {
            o.requests.push(Exchange {
                method: request.method.clone(),
                target: request.target.clone(),
                fault: fault.clone(),
            })
        });
        (fault, latency, release)
    }
}

/// A complete request as read from the client, ready to send on (once or twice).
struct Request {
    method: String,
    target: String,
    bytes: Vec<u8>,
    /// The client will not send another on this connection.
    close: bool,
}

impl Request {
    async fn read(head: Vec<u8>, reader: &mut Reader, client: &mut TcpStream) -> io::Result<Self> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Request::new(&mut headers);
        if !parsed.parse(&head).map_err(invalid)?.is_complete() {
            return Err(invalid("an incomplete request head"));
        }
        let method = parsed.method.unwrap_or_default().to_owned();
        let target = parsed.path.unwrap_or_default().to_owned();
        let close = parsed.version == Some(0) || has_token(parsed.headers, "connection", "close");
        let framing = if has_token(parsed.headers, "transfer-encoding", "chunked") {
            Framing::Chunked
        } else {
            content_length(parsed.headers)?.map_or(Framing::Empty, Framing::Length)
        };
        let mut bytes = head.clone();
        // Request bodies are read whole: a duplicate needs them again, and they are small.
        let end = relay_body(reader, client, framing, &mut Sink::Keep(&mut bytes), &()).await?;
        debug_assert_eq!(end, BodyEnd::Complete);
        Ok(Self {
            method,
            target,
            bytes,
            close,
        })
    }
}

/// The head of a response and how its body is framed.
struct ResponseHead {
    head: Vec<u8>,
    framing: Framing,
    /// The server closes the connection after this response.
    close: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Empty,
    Length(u64),
    Chunked,
    UntilClose,
}

#[derive(Debug, PartialEq, Eq)]
enum BodyEnd {
    Complete,
    /// The sink's budget was spent before the body ended.
    Cut,
}

/// An upstream connection to the server.
struct Upstream {
    stream: TcpStream,
    reader: Reader,
}

impl Upstream {
    async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            reader: Reader::default(),
        })
    }

    async fn send(&mut self, bytes: &[u8], shared: &Shared) -> io::Result<()> {
        self.stream.write_all(bytes).await?;
        shared.observed.send_modify(|o| {
            o.forwarded += 1;
            o.bytes_to_server += bytes.len() as u64;
        });
        Ok(())
    }

    async fn read_head(&mut self, method: &str) -> io::Result<ResponseHead> {
        let head = self
            .reader
            .read_head(&mut self.stream)
            .await?
            .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Response::new(&mut headers);
        if !parsed.parse(&head).map_err(invalid)?.is_complete() {
            return Err(invalid("an incomplete response head"));
        }
        let status = parsed.code.unwrap_or_default();
        let framing =
            if method == "HEAD" || (100..200).contains(&status) || [204, 304].contains(&status) {
                Framing::Empty
            } else if has_token(parsed.headers, "transfer-encoding", "chunked") {
                Framing::Chunked
            } else {
                content_length(parsed.headers)?.map_or(Framing::UntilClose, Framing::Length)
            };
        let close = parsed.version == Some(0) || has_token(parsed.headers, "connection", "close");
        Ok(ResponseHead {
            head,
            framing,
            close,
        })
    }

    async fn relay_body(
        &mut self,
        framing: Framing,
        sink: &mut Sink<'_>,
        shared: &Shared,
    ) -> io::Result<BodyEnd> {
        relay_body(&mut self.reader, &mut self.stream, framing, sink, shared).await
    }
}

/// Where a body goes.
enum Sink<'a> {
    /// To the client, at most `left` bytes of it when set.
    Client {
        to: &'a mut (dyn AsyncWrite + Unpin + Send),
        left: Option<usize>,
    },
    Keep(&'a mut Vec<u8>),
    Discard,
}

/// Counts the bytes a sink sends to the client (`()` counts nothing).
trait Count: Sync {
    fn to_client(&self, bytes: usize);
}

impl Count for Shared {
    fn to_client(&self, bytes: usize) {
        self.observed
            .send_modify(|o| o.bytes_to_client += bytes as u64);
    }
}

impl Count for () {
    fn to_client(&self, _: usize) {}
}

impl Sink<'_> {
    /// Takes the next bytes of a body; `false` when some were held back (the budget is spent).
    async fn put(&mut self, bytes: &[u8], count: &dyn Count) -> io::Result<bool> {
        match self {
            Sink::Client { to, left } => {
                let n = left.map_or(bytes.len(), |left| left.min(bytes.len()));
                to.write_all(&bytes[..n]).await?;
                count.to_client(n);
                if let Some(left) = left {
                    *left -= n;
                }
                Ok(n == bytes.len())
            }
            Sink::Keep(kept) => {
                kept.extend_from_slice(bytes);
                Ok(true)
            }
            Sink::Discard => Ok(true),
        }
    }
}

/// Relays one message body from `from` to `sink` as it arrives, framing and all.
async fn relay_body<R: AsyncRead + Unpin + Send>(
    reader: &mut Reader,
    from: &mut R,
    framing: Framing,
    sink: &mut Sink<'_>,
    count: &dyn Count,
) -> io::Result<BodyEnd> {
    match framing {
        Framing::Empty => Ok(BodyEnd::Complete),
        Framing::Length(length) => relay_exactly(reader, from, length, sink, count).await,
        Framing::UntilClose => loop {
            let bytes = reader.next_bytes(from, u64::MAX).await?;
            if bytes.is_empty() {
                return Ok(BodyEnd::Complete);
            }
            if !sink.put(&bytes, count).await? {
                return Ok(BodyEnd::Cut);
            }
        },
        Framing::Chunked => loop {
            let line = reader.read_line(from).await?;
            if !sink.put(&line, count).await? {
                return Ok(BodyEnd::Cut);
            }
            let size = chunk_size(&line)?;
            if size == 0 {
                // Trailers, up to the empty line that ends the message.
                loop {
                    let line = reader.read_line(from).await?;
                    if !sink.put(&line, count).await? {
                        return Ok(BodyEnd::Cut);
                    }
                    if line == b"\r\n" {
                        return Ok(BodyEnd::Complete);
                    }
                }
            }
            // The chunk's data and its CRLF.
            if relay_exactly(reader, from, size + 2, sink, count).await? == BodyEnd::Cut {
                return Ok(BodyEnd::Cut);
            }
        },
    }
}

async fn relay_exactly<R: AsyncRead + Unpin + Send>(
    reader: &mut Reader,
    from: &mut R,
    mut length: u64,
    sink: &mut Sink<'_>,
    count: &dyn Count,
) -> io::Result<BodyEnd> {
    while length > 0 {
        let bytes = reader.next_bytes(from, length).await?;
        if bytes.is_empty() {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        length -= bytes.len() as u64;
        if !sink.put(&bytes, count).await? {
            return Ok(BodyEnd::Cut);
        }
    }
    Ok(BodyEnd::Complete)
}

/// Bytes read from a connection and not yet used. Every read appends to `pending`, so a read
/// abandoned in a `select!` loses nothing.
#[derive(Default)]
struct Reader {
    pending: Vec<u8>,
}

impl Reader {
    /// Reads more; `Ok(0)` at the end of the stream.
    async fn fill<R: AsyncRead + Unpin>(&mut self, from: &mut R) -> io::Result<usize> {
        self.pending.reserve(16 * 1024);
        from.read_buf(&mut self.pending).await
    }

    /// The next head, through its empty line; `None` when the stream ends before one starts.
    async fn read_head<R: AsyncRead + Unpin>(
        &mut self,
        from: &mut R,
    ) -> io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(at) = find(&self.pending, b"\r\n\r\n") {
                return Ok(Some(self.pending.drain(..at + 4).collect()));
            }
            if self.pending.len() > MAX_HEAD {
                return Err(invalid("a head larger than 64 KiB"));
            }
            if self.fill(from).await? == 0 {
                return if self.pending.is_empty() {
                    Ok(None)
                } else {
                    Err(io::ErrorKind::UnexpectedEof.into())
                };
            }
        }
    }

    /// The next line, CRLF included.
    async fn read_line<R: AsyncRead + Unpin>(&mut self, from: &mut R) -> io::Result<Vec<u8>> {
        loop {
            if let Some(at) = find(&self.pending, b"\r\n") {
                return Ok(self.pending.drain(..at + 2).collect());
            }
            if self.pending.len() > MAX_HEAD {
                return Err(invalid("a line larger than 64 KiB"));
            }
            if self.fill(from).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// Whatever is available, at most `max` bytes, waiting only when nothing is; empty at the
    /// end of the stream.
    async fn next_bytes<R: AsyncRead + Unpin>(
        &mut self,
        from: &mut R,
        max: u64,
    ) -> io::Result<Vec<u8>> {
        if self.pending.is_empty() && self.fill(from).await? == 0 {
            return Ok(Vec::new());
        }
        let n = usize::try_from(max).map_or(self.pending.len(), |max| max.min(self.pending.len()));
        Ok(self.pending.drain(..n).collect())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn invalid(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error)
}

/// Whether a header `name` lists `token` (case-insensitive, comma-separated).
fn has_token(headers: &[httparse::Header<'_>], name: &str, token: &str) -> bool {
    headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case(name))
        .flat_map(|h| h.value.split(|b| *b == b','))
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}

fn content_length(headers: &[httparse::Header<'_>]) -> io::Result<Option<u64>> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .map(|h| {
            std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| invalid("a Content-Length that is not a number"))
        })
        .transpose()
}

/// The size on a chunk's first line (`1a;ext=1\r\n` is 26).
fn chunk_size(line: &[u8]) -> io::Result<u64> {
    let digits = line
        .split(|b| *b == b';' || *b == b'\r')
        .next()
        .unwrap_or_default();
    std::str::from_utf8(digits)
        .ok()
        .and_then(|d| u64::from_str_radix(d.trim(), 16).ok())
        .ok_or_else(|| invalid("a chunk size that is not hexadecimal"))
}
