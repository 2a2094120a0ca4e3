//! A loopback HTTPS server that serves a JWK set, for tests of the realm's HTTPS client.
//!
//! At start it makes a CA and a server certificate for `localhost` and `127.0.0.1` (rcgen),
//! writes the CA as PEM into a temporary folder, and serves HTTP/1.1 over rustls (aws-lc-rs) on
//! `127.0.0.1:0` from a background thread, one thread per connection, `Connection: close`.
//! The body, headers, status and a delay before answering can be changed while it runs.
//! Dropping it stops the threads and removes the folder.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the server answers, changeable while it runs.
#[derive(Debug, Clone)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    delay: Duration,
    content_length: bool,
}

#[derive(Debug)]
struct Shared {
    reply: Mutex<Reply>,
    requests: AtomicUsize,
    stop: AtomicBool,
    connections: Mutex<Vec<JoinHandle<()>>>,
}

/// The server; see the module documentation.
#[derive(Debug)]
pub struct JwksServer {
    port: u16,
    dir: PathBuf,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

/// The temp folders of this test binary are told apart by a counter.
static SERVERS: AtomicUsize = AtomicUsize::new(0);

impl JwksServer {
    /// Starts a server that answers `200` with an empty JWK set.
    pub fn start() -> JwksServer {
        let n = SERVERS.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("rolemap-https-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();

        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, "rolemap test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, "localhost");
        let server_cert = params.signed_by(&server_key, &issuer).unwrap();

        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(rustls::ALL_VERSIONS)
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(server_cert.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
            )
            .unwrap();
        let config = Arc::new(config);

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            reply: Mutex::new(Reply {
                status: 200,
                headers: Vec::new(),
                body: br#"{"keys":[]}"#.to_vec(),
                delay: Duration::ZERO,
                content_length: true,
            }),
            requests: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            connections: Mutex::new(Vec::new()),
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || {
                while !shared.stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let shared2 = Arc::clone(&shared);
                            let config = Arc::clone(&config);
                            let handle = std::thread::spawn(move || {
                                // A failed connection (a client that refused our certificate,
                                // a timeout) is the client's business; the server goes on.
                                let _ = serve(stream, config, &shared2);
                            });
                            shared.connections.lock().unwrap().push(handle);
                        }
                        // Nothing to accept yet (or a passing accept error): look again soon.
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        JwksServer { port, dir, shared, acceptor: Some(acceptor) }
    }

    /// The URL of `path` on this server, under the name `localhost`.
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}/{}", self.port, path.trim_start_matches('/'))
    }

    /// The port the server listens on (at `127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The PEM file of the CA that signed the server's certificate.
    pub fn ca_path(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// Serves `body` from now on.
    pub fn set_body(&self, body: String) {
        self.set_body_bytes(body.into_bytes());
    }

    /// Serves `body`, which need not be UTF-8, from now on.
    pub fn set_body_bytes(&self, body: Vec<u8>) {
        self.shared.reply.lock().unwrap().body = body;
    }

    /// Sends the header `name: value` from now on, replacing one of the same name.
    pub fn set_header(&self, name: &str, value: &str) {
        let mut reply = self.shared.reply.lock().unwrap();
        reply.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        reply.headers.push((name.to_owned(), value.to_owned()));
    }

    /// Answers with `status` from now on.
    pub fn set_status(&self, status: u16) {
        self.shared.reply.lock().unwrap().status = status;
    }

    /// Waits this long after reading a request before answering it.
    pub fn set_delay(&self, delay: Duration) {
        self.shared.reply.lock().unwrap().delay = delay;
    }

    /// Whether to send `Content-Length`; without it the body ends when the connection closes,
    /// so the client learns its length only by reading it.
    pub fn set_content_length(&self, send: bool) {
        self.shared.reply.lock().unwrap().content_length = send;
    }

    /// How many requests were read (over a completed TLS handshake).
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        // Connection threads check `stop` while they wait and have socket timeouts, so these
        // joins end promptly.
        let handles = std::mem::take(&mut *self.shared.connections.lock().unwrap());
        for handle in handles {
            let _ = handle.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Largest request head read before giving up on a client.
const MAX_REQUEST_HEAD: usize = 16 * 1024;

fn serve(stream: TcpStream, config: Arc<rustls::ServerConfig>, shared: &Shared) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let connection = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(connection, stream);
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tls.read(&mut buf)?;
        if n == 0 || head.len() > MAX_REQUEST_HEAD {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let reply = shared.reply.lock().unwrap().clone();
    let deadline = Instant::now() + reply.delay;
    while Instant::now() < deadline {
        if shared.stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(10).min(deadline.saturating_duration_since(Instant::now())));
    }
    let mut out = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    if reply.content_length {
        out.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
    }
    out.push_str("Connection: close\r\n");
    out.push_str("Content-Type: application/json\r\n");
    for (name, value) in &reply.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    tls.write_all(out.as_bytes())?;
    tls.write_all(&reply.body)?;
    tls.conn.send_close_notify();
    tls.flush()?;
    Ok(())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// A loopback HTTP proxy that only tunnels (`CONNECT`), as `http.proxy.*` needs for an
/// `https://` URL. Counts the tunnels it opened; stops on Drop.
#[derive(Debug)]
pub struct ConnectProxy {
    port: u16,
    tunnels: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl ConnectProxy {
    /// Starts the proxy on `127.0.0.1:0`.
    pub fn start() -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let tunnels = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let (tunnels, stop) = (Arc::clone(&tunnels), Arc::clone(&stop));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((client, _)) => {
                            let tunnels = Arc::clone(&tunnels);
                            // Tunnels end when either side closes or after 5 s of silence.
                            std::thread::spawn(move || {
                                let _ = tunnel(client, &tunnels);
                            });
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        ConnectProxy { port, tunnels, stop, acceptor: Some(acceptor) }
    }

    /// The port the proxy listens on (at `127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// How many tunnels were opened.
    pub fn tunnels(&self) -> usize {
        self.tunnels.load(Ordering::SeqCst)
    }
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// Reads a `CONNECT host:port` request, connects (to loopback only), answers 200 and copies
/// bytes both ways.
fn tunnel(mut client: TcpStream, tunnels: &AtomicUsize) -> std::io::Result<()> {
    client.set_nonblocking(false)?;
    client.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    // Byte by byte, so that nothing after the request head is swallowed.
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte)? == 0 || head.len() > MAX_REQUEST_HEAD {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let target = head.strip_prefix("CONNECT ").and_then(|rest| rest.split(' ').next()).unwrap_or("");
    let port = target.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok());
    let Some(port) = port else {
        client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")?;
        return Ok(());
    };
    // Whatever host the client named, the tunnel goes to this machine's loopback.
    let server = TcpStream::connect(("127.0.0.1", port))?;
    server.set_read_timeout(Some(Duration::from_secs(5)))?;
    tunnels.fetch_add(1, Ordering::SeqCst);
    client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    let (mut client_read, mut server_write) = (client.try_clone()?, server.try_clone()?);
    let upstream = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_read, &mut server_write);
        let _ = server_write.shutdown(std::net::Shutdown::Write);
    });
    let (mut server_read, mut client_write) = (server, client);
    let _ = std::io::copy(&mut server_read, &mut client_write);
    let _ = client_write.shutdown(std::net::Shutdown::Write);
    let _ = upstream.join();
    Ok(())
}
