//! Drains the email outbox through the configured transport: `log` prints the email
//! (with its links) to the server log, like a console email backend; `smtp://host:port`
//! speaks SMTP with lettre.

use heepr_store::Store;
use heepr_store::mail::QueuedEmail;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

pub enum Mailer {
    Log,
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

const FROM: &str = "heepr <no-reply@heepr.local>";

impl Mailer {
    pub fn from_config(mail: &str) -> Result<Self, String> {
        if mail == "log" {
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

    async fn send(&self, e: &QueuedEmail) -> Result<(), String> {
        match self {
            Self::Log => {
                tracing::info!(to = %e.to, subject = %e.subject, "email (log transport)\n{}", e.body);
                Ok(())
            }
            Self::Smtp(t) => {
                let msg = Message::builder()
                    .from(FROM.parse().map_err(|e| format!("from: {e}"))?)
                    .to(e.to.parse().map_err(|err| format!("to {}: {err}", e.to))?)
                    .subject(e.subject.clone())
                    .header(ContentType::TEXT_PLAIN)
                    .body(e.body.clone())
                    .map_err(|e| e.to_string())?;
                t.send(msg).await.map(|_| ()).map_err(|e| e.to_string())
            }
        }
    }
}

pub async fn run(store: Store, mailer: Mailer) {
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
            let result = mailer.send(&email).await;
            let s = store.clone();
            let id = email.id.clone();
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
