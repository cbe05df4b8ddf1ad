//! A tiny HTTP/1.1 server on 127.0.0.1 for the end-to-end tests: one request per
//! connection (`Connection: close`), a fixed way of answering, and a record of what
//! reached it, so a test can assert that a refused call sent it nothing at all.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the server answers every request.
#[derive(Debug, Clone)]
pub enum Answer {
    /// 200 with this body.
    Ok(&'static str),
    /// 307 to this location.
    Redirect(String),
    /// Reads the request, then says nothing for a minute.
    Stall,
    /// 200 with `len` bytes, declaring the length or not (then the body ends at close).
    Big { len: usize, declared: bool },
}

/// What reached the server.
#[derive(Debug, Default)]
pub struct Seen {
    accepted: AtomicUsize,
    bytes: AtomicUsize,
    requests: Mutex<Vec<Request>>,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    /// The request line and headers, as text.
    pub head: String,
    pub body: Vec<u8>,
}

impl Request {
    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

pub struct Server {
    pub addr: SocketAddr,
    seen: Arc<Seen>,
}

impl Server {
    pub async fn start(answer: Answer) -> Self {
        Self::on(TcpListener::bind("127.0.0.1:0").await.unwrap(), answer)
    }

    /// Serves on a listener bound by the caller.
    pub fn on(listener: TcpListener, answer: Answer) -> Self {
        let addr = listener.local_addr().unwrap();
        assert!(addr.ip().is_loopback(), "test servers listen on loopback only");
        let seen = Arc::new(Seen::default());
        let shared = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                shared.accepted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(stream, answer.clone(), shared.clone()));
            }
        });
        Self { addr, seen }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn accepted(&self) -> usize {
        self.seen.accepted.load(Ordering::SeqCst)
    }

    pub fn bytes(&self) -> usize {
        self.seen.bytes.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.seen.requests.lock().unwrap().clone()
    }

    /// Asserts that nothing reached the server, after giving a connection that was
    /// wrongly made a moment to be accepted.
    pub async fn assert_untouched(&self) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!((self.accepted(), self.bytes()), (0, 0), "the server was reached");
    }
}

async fn serve(mut stream: TcpStream, answer: Answer, seen: Arc<Seen>) {
    let Some(request) = read_request(&mut stream, &seen).await else {
        return;
    };
    seen.requests.lock().unwrap().push(request);
    let head = |status: &str, extra: &str| format!("HTTP/1.1 {status}\r\nConnection: close\r\n{extra}\r\n");
    let _ = match answer {
        Answer::Ok(body) => {
            let reply = head("200 OK", &format!("Content-Length: {}\r\n", body.len())) + body;
            stream.write_all(reply.as_bytes()).await
        }
        Answer::Redirect(location) => {
            let reply = head(
                "307 Temporary Redirect",
                &format!("Location: {location}\r\nContent-Length: 0\r\n"),
            );
            stream.write_all(reply.as_bytes()).await
        }
        Answer::Stall => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(())
        }
        Answer::Big { len, declared } => {
            let length = if declared {
                format!("Content-Length: {len}\r\n")
            } else {
                String::new()
            };
            if stream.write_all(head("200 OK", &length).as_bytes()).await.is_err() {
                return;
            }
            let chunk = [b'a'; 8192];
            let mut left = len;
            while left > 0 {
                let n = left.min(chunk.len());
                if stream.write_all(&chunk[..n]).await.is_err() {
                    return; // the client stopped reading, as it should
                }
                left -= n;
            }
            Ok(())
        }
    };
    let _ = stream.shutdown().await;
}

/// Reads the head and a `Content-Length` body.
async fn read_request(stream: &mut TcpStream, seen: &Seen) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.ok().filter(|&n| n > 0)?;
        seen.bytes.fetch_add(n, Ordering::SeqCst);
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut request = Request {
        head,
        body: buf[head_end..].to_vec(),
    };
    let length: usize = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while request.body.len() < length {
        let n = stream.read(&mut chunk).await.ok().filter(|&n| n > 0)?;
        seen.bytes.fetch_add(n, Ordering::SeqCst);
        request.body.extend_from_slice(&chunk[..n]);
    }
    Some(request)
}
