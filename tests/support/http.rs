//! A small HTTP/1.1 server on 127.0.0.1 for tests, the collector and benchmarks: one thread per
//! connection, keep-alive, and a script that decides each answer, including the faults a real
//! network produces (hangs, resets, truncated answers, delays).

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Header names lower-cased, in arrival order, repeats kept.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Which connection it came on (0, 1, …), to check keep-alive.
    pub connection: usize,
    pub received_at: Instant,
}

impl Request {
    /// The first value of a header (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// How to answer one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A normal answer.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Wait, then answer as the inner reply says.
    Delay(Duration, Box<Reply>),
    /// Keep the connection open and never answer.
    Hang,
    /// Close the connection with a TCP reset, without answering.
    Reset,
    /// Send the status line and headers announcing a body, then a part of it, then reset.
    Truncated { status: u16 },
    /// For the collector: record the request's events as received, then answer with the inner
    /// reply (a lost response: the client cannot know the server has them).
    Process(Box<Reply>),
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply::Respond {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Respond {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
        }
    }

    pub fn with_header(self, name: &str, value: &str) -> Reply {
        match self {
            Reply::Respond {
                status,
                mut headers,
                body,
            } => {
                headers.push((name.into(), value.into()));
                Reply::Respond {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }
}

/// Decides the answer to each request; called concurrently from connection threads.
pub type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// Decides, per accepted connection (0, 1, …), whether to reset it at once.
pub type AcceptFault = dyn Fn(usize) -> bool + Send + Sync;

/// A running server; stops (and resets every open connection) when dropped.
pub struct HttpServer {
    addr: SocketAddr,
    accept_fault: Arc<Mutex<Option<Arc<AcceptFault>>>>,
    stopping: Arc<AtomicBool>,
    /// Open connections, so dropping the server can reset them; each leaves when it ends.
    connections: Arc<Mutex<HashMap<usize, TcpStream>>>,
    accepted: Arc<AtomicUsize>,
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn reset(stream: &TcpStream) {
    // A zero linger turns close into an RST, as a crashed or overloaded server would send.
    let _ = socket_linger_zero(stream);
    let _ = stream.shutdown(Shutdown::Both);
}

#[cfg(unix)]
fn socket_linger_zero(stream: &TcpStream) -> io::Result<()> {
    use std::os::unix::io::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket and a correctly sized option value.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
fn socket_linger_zero(_: &TcpStream) -> io::Result<()> {
    Ok(())
}

/// Reads one request; `Ok(None)` at a clean end of the connection.
fn read_request(
    reader: &mut BufReader<TcpStream>,
    connection: usize,
) -> io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(len) = find("content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad content-length"))?;
        body.resize(len, 0);
        reader.read_exact(&mut body)?;
    }
    Ok(Some(Request {
        method,
        path,
        headers,
        body,
        connection,
        received_at: Instant::now(),
    }))
}

/// Writes an answer. Returns false when the connection must end.
fn answer(stream: &mut TcpStream, reply: Reply, stopping: &AtomicBool) -> bool {
    match reply {
        Reply::Respond {
            status,
            headers,
            body,
        } => {
            let mut out = format!(
                "HTTP/1.1 {status} {}\r\ncontent-length: {}\r\n",
                reason(status),
                body.len()
            );
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            let mut bytes = out.into_bytes();
            bytes.extend_from_slice(&body);
            stream.write_all(&bytes).is_ok()
        }
        Reply::Delay(d, inner) => {
            let end = Instant::now() + d;
            while Instant::now() < end {
                if stopping.load(Ordering::Relaxed) {
                    return false;
                }
                thread::sleep((end - Instant::now()).min(Duration::from_millis(20)));
            }
            answer(stream, *inner, stopping)
        }
        Reply::Hang => {
            while !stopping.load(Ordering::Relaxed) {
                thread::sleep(Duration::from_millis(20));
            }
            false
        }
        Reply::Reset => {
            reset(stream);
            false
        }
        Reply::Truncated { status } => {
            let head = format!(
                "HTTP/1.1 {status} {}\r\ncontent-length: 100\r\n\r\n{{\"title\":",
                reason(status)
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.flush();
            thread::sleep(Duration::from_millis(10));
            reset(stream);
            false
        }
        Reply::Process(inner) => answer(stream, *inner, stopping),
    }
}

impl HttpServer {
    /// Listens on 127.0.0.1:`port` (0 picks a free port).
    pub fn start(port: u16, handler: Arc<Handler>) -> io::Result<HttpServer> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let connections: Arc<Mutex<HashMap<usize, TcpStream>>> =
            Arc::new(Mutex::new(HashMap::new()));
        let accepted = Arc::new(AtomicUsize::new(0));
        let accept_fault: Arc<Mutex<Option<Arc<AcceptFault>>>> = Arc::new(Mutex::new(None));
        {
            let accept_fault = accept_fault.clone();
            let stopping = stopping.clone();
            let connections = connections.clone();
            let accepted = accepted.clone();
            thread::Builder::new()
                .name("http-accept".into())
                .spawn(move || {
                    for stream in listener.incoming() {
                        if stopping.load(Ordering::Relaxed) {
                            break;
                        }
                        let Ok(stream) = stream else { continue };
                        let _ = stream.set_nodelay(true);
                        let id = accepted.fetch_add(1, Ordering::Relaxed);
                        let fault = accept_fault.lock().unwrap().clone();
                        if fault.is_some_and(|f| f(id)) {
                            reset(&stream);
                            continue;
                        }
                        if let Ok(clone) = stream.try_clone() {
                            connections.lock().unwrap().insert(id, clone);
                        }
                        let handler = handler.clone();
                        let stopping = stopping.clone();
                        let connections = connections.clone();
                        let _ = thread::Builder::new()
                            .name("http-conn".into())
                            .spawn(move || {
                                serve(stream, id, &*handler, &stopping);
                                connections.lock().unwrap().remove(&id);
                            });
                    }
                })?;
        }
        Ok(HttpServer {
            addr,
            accept_fault,
            stopping,
            connections,
            accepted,
        })
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Resets chosen connections as soon as they are accepted (before any byte is read).
    pub fn set_accept_fault(&self, fault: Option<Arc<AcceptFault>>) {
        *self.accept_fault.lock().unwrap() = fault;
    }

    /// Connections accepted so far.
    pub fn connections_accepted(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }
}

fn serve(stream: TcpStream, id: usize, handler: &Handler, stopping: &AtomicBool) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let request = match read_request(&mut reader, id) {
            Ok(Some(r)) => r,
            _ => return,
        };
        let close = request
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let reply = handler(&request);
        if !answer(&mut writer, reply, stopping) || close {
            let _ = writer.shutdown(Shutdown::Both);
            return;
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::Relaxed);
        for (_, c) in self.connections.lock().unwrap().drain() {
            reset(&c);
        }
        // Wake the accept loop so it sees `stopping`.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}
