//! Drains the email outbox through the configured transport: `log` prints the email
//! (with its links) to the server log, like a console email backend; `smtp://host:port`
//! speaks SMTP with lettre and logs no body. A body kept sealed (one with a one-time
//! link) is opened with the server key just before it is sent.

use heepr_auth::ServerKey;
use heepr_store::Store;
use heepr_store::mail::QueuedEmail;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::Arc;
use std::time::Duration;

pub enum Mailer {
    Log,
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

const FROM: &str = "heepr <no-reply@heepr.local>";

impl Mailer {
    pub fn from_config(mail: &str) -> Result<Self, String> {
        if mail == "log" {
            tracing::info!(
                "HEEPR_MAIL=log: emails are printed to this log, one-time links included (use smtp:// in production)"
            );
            return Ok(Self::Log);
        }
        let rest = mail
            .strip_prefix("smtp://")
            .ok_or_else(|| format!("HEEPR_MAIL must be `log` or smtp://host:port, not {mail:?}"))?;
        let (host, port) = match rest.trim_end_matches('/').rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>()
                    .map_err(|_| format!("HEEPR_MAIL: bad port in {mail:?}"))?,
            ),
            None => (rest, 25),
        };
        if host.is_empty() {
            return Err(format!("HEEPR_MAIL: no host in {mail:?}"));
        }
        // Plain SMTP to a relay the operator controls (a local MTA); TLS relays are a
        // later option.
        Ok(Self::Smtp(
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                .port(port)
                .timeout(Some(Duration::from_secs(20)))
                .build(),
        ))
    }

    /// Sends `e` with `body` (its stored body, or its sealed one opened).
    async fn send(&self, e: &QueuedEmail, body: String) -> Result<(), String> {
        match self {
            Self::Log => {
                tracing::info!(to = %e.to, subject = %e.subject, "email (log transport)\n{body}");
                Ok(())
            }
            Self::Smtp(t) => {
                let msg = Message::builder()
                    .from(FROM.parse().map_err(|e| format!("from: {e}"))?)
                    .to(e.to.parse().map_err(|err| format!("to {}: {err}", e.to))?)
                    .subject(e.subject.clone())
                    .header(ContentType::TEXT_PLAIN)
                    .body(body)
                    .map_err(|e| e.to_string())?;
                t.send(msg).await.map(|_| ()).map_err(|e| e.to_string())
            }
        }
    }
}

/// The body to send: the sealed one opened with the server key, else the stored one.
fn body_to_send(key: &ServerKey, e: &QueuedEmail) -> Result<String, String> {
    match &e.sealed_body {
        None => Ok(e.body.clone()),
        Some(sealed) => key
            .open(sealed, e.to.as_bytes())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                "the sealed body does not open with this instance's server key \
                 (every instance must use the same HEEPR_SECRET_KEY_FILE)"
                    .to_owned()
            }),
    }
}

pub async fn run(store: Store, mailer: Mailer, key: Arc<ServerKey>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let s = store.clone();
        let batch = match tokio::task::spawn_blocking(move || {
            s.claim_unsent_emails(50, chrono::Utc::now(), chrono::Duration::minutes(5))
        })
        .await
        {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "reading the outbox failed");
                continue;
            }
            Err(_) => continue,
        };
        for email in batch {
            let result = match body_to_send(&key, &email) {
                Ok(body) => mailer.send(&email, body).await,
                Err(e) => Err(e),
            };
            let s = store.clone();
            let id = email.id.clone();
            let outcome = if result.is_ok() { "sent" } else { "failed" };
            metrics::counter!("heepr_outbox_sends_total", "outcome" => outcome).increment(1);
            let _ = tokio::task::spawn_blocking(move || match result {
                Ok(()) => s.mark_email_sent(&id, chrono::Utc::now()),
                Err(err) => {
                    tracing::warn!(email = %id, error = %err, "email not sent; will retry");
                    s.mark_email_failed(&id, &err)
                }
            })
            .await;
        }
    }
}
