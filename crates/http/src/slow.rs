//! Deadlines for slow clients. actix cuts a request head that takes too long and an
//! idle keep-alive connection; a request *body* has no deadline there, so a client that
//! sends its headers and then stalls would hold its socket (and, for an upload, a temp
//! file) forever. Every request body is wrapped here: when the handler waits for the
//! next chunk and none comes for `body_idle`, the body fails with a [`Stalled`] error,
//! which the handlers answer as 408 `request_timeout`.

use crate::app::AppState;
use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::web;
use bytes::Bytes;
use futures_util::Stream;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Deadlines for slow or stalled clients (config).
#[derive(Debug, Clone, Copy)]
pub struct ClientTimeouts {
    /// The whole request head (line and headers) must arrive within this.
    pub header: Duration,
    /// An idle keep-alive connection is closed after this.
    pub keep_alive: Duration,
    /// A request body that sends no byte for this long while the server waits for it
    /// is cut (408).
    pub body_idle: Duration,
    /// Most open connections per HTTP worker (0: actix's default, 25 000).
    pub max_connections_per_worker: usize,
}

impl Default for ClientTimeouts {
    fn default() -> Self {
        Self {
            header: Duration::from_secs(5),
            keep_alive: Duration::from_secs(5),
            body_idle: Duration::from_secs(30),
            max_connections_per_worker: 0,
        }
    }
}

/// The error a stalled body fails with (inside `PayloadError::Io`, kind `TimedOut`).
#[derive(Debug, thiserror::Error)]
#[error("no request body data for {0} s")]
pub struct Stalled(pub u64);

/// The idle limit (seconds) if this I/O error is a stalled body.
pub fn stalled_io(e: &std::io::Error) -> Option<u64> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<Stalled>())
        .map(|s| s.0)
}

/// The idle limit (seconds) if this payload error is a stalled body.
pub fn stalled(e: &PayloadError) -> Option<u64> {
    match e {
        PayloadError::Io(io) => stalled_io(io),
        _ => None,
    }
}

/// A request body that fails once the consumer has waited `idle` for a chunk. Only
/// time spent waiting counts: a handler that reads late (say, after a database call)
/// finds whatever arrived meanwhile.
struct IdleLimited {
    inner: Payload,
    idle: Duration,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    done: bool,
}

impl Stream for IdleLimited {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.timer = None;
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(other) => {
                this.done = other.is_none();
                Poll::Ready(other)
            }
            Poll::Pending => {
                let idle = this.idle;
                let timer = this.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                if timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.done = true;
                let err = std::io::Error::new(std::io::ErrorKind::TimedOut, Stalled(idle.as_secs()));
                Poll::Ready(Some(Err(PayloadError::Io(err))))
            }
        }
    }
}

/// Wraps every request body in the idle deadline.
pub(crate) async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let idle = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.config.clients.body_idle);
    if let Some(idle) = idle {
        let inner = req.take_payload();
        if matches!(inner, Payload::None) {
            req.set_payload(inner);
        } else {
            let limited = IdleLimited {
                inner,
                idle,
                timer: None,
                done: false,
            };
            let boxed: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(limited);
            req.set_payload(Payload::from(boxed));
        }
    }
    next.call(req).await
}
