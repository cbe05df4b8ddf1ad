//! Turns notices into emails and drains the outbox.
//!
//! Transports (`HEEPR_MAIL`): `log` prints each email (with its links) to the server log,
//! like a console email backend; `smtp://` and `smtps://` URLs speak SMTP with lettre —
//! STARTTLS with `?tls=required`, implicit TLS with `smtps://`, authentication from the
//! URL's user and password (only over TLS). A body kept sealed (one with a one-time link)
//! is opened with the server key just before it is sent.
//!
//! A failed attempt is retried after a back-off that doubles from `HEEPR_MAIL_RETRY_MS`
//! (capped at an hour, with jitter so that instances do not retry in step); after
//! [`MAX_ATTEMPTS`] attempts, or at once when the server refuses for good (a 5xx such as
//! an unknown recipient), the email becomes a dead letter that support can re-send.

use heepr_auth::ServerKey;
use heepr_store::Store;
use heepr_store::mail::{AttemptOutcome, EmailAttempt, MAX_ATTEMPTS, NewEmail, QueuedEmail};
use heepr_store::notice::NoticeToMail;
use lettre::message::{Mailbox, MultiPart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// How emails leave.
enum Transport {
    Log,
    Smtp(Box<AsyncSmtpTransport<Tokio1Executor>>),
}

/// The configured sender.
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    retry_first: Duration,
}

/// The mail settings, as configured.
pub struct MailSettings<'a> {
    /// `HEEPR_MAIL`.
    pub url: &'a str,
    /// `HEEPR_MAIL_FROM`.
    pub from: &'a str,
    /// `HEEPR_MAIL_REPLY_TO`.
    pub reply_to: Option<&'a str>,
    /// `HEEPR_MAIL_CA_FILE`: an extra root certificate (PEM) to trust.
    pub ca_file: Option<&'a Path>,
    /// `HEEPR_MAIL_RETRY_MS`: the first retry's delay.
    pub retry_first: Duration,
}

/// Why a send failed, and whether trying again can help.
struct Failure {
    error: String,
    permanent: bool,
}

impl Failure {
    fn permanent(error: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            permanent: true,
        }
    }
}

const FORMS: &str =
    "`log`, smtp://[user:pass@]host[:port][?tls=required|opportunistic] or smtps://user:pass@host[:port]";

impl Mailer {
    pub fn from_config(s: &MailSettings<'_>) -> Result<Self, String> {
        let from = s
            .from
            .parse::<Mailbox>()
            .map_err(|e| format!("HEEPR_MAIL_FROM {:?} is not an address: {e}", s.from))?;
        let reply_to = s
            .reply_to
            .map(|r| {
                r.parse::<Mailbox>()
                    .map_err(|e| format!("HEEPR_MAIL_REPLY_TO {r:?} is not an address: {e}"))
            })
            .transpose()?;
        let transport = if s.url == "log" {
            tracing::info!(
                "HEEPR_MAIL=log: emails are printed to this log, one-time links included (use smtp:// or smtps:// in production)"
            );
            Transport::Log
        } else {
            Transport::Smtp(Box::new(smtp(s.url, s.ca_file)?))
        };
        Ok(Self {
            transport,
            from,
            reply_to,
            retry_first: s.retry_first,
        })
    }

    /// Sends `e` with `body` (its stored body, or its sealed one opened).
    async fn send(&self, e: &QueuedEmail, body: String) -> Result<(), Failure> {
        match &self.transport {
            Transport::Log => {
                tracing::info!(to = %e.to, subject = %e.subject, "email (log transport)\n{body}");
                Ok(())
            }
            Transport::Smtp(t) => {
                let to =
                    e.to.parse::<Mailbox>()
                        .map_err(|err| Failure::permanent(format!("recipient is not an address: {err}")))?;
                let mut b = Message::builder()
                    .from(self.from.clone())
                    .to(to)
                    .subject(e.subject.clone());
                if let Some(r) = &self.reply_to {
                    b = b.reply_to(r.clone());
                }
                let msg = match &e.html_body {
                    Some(html) => b.multipart(MultiPart::alternative_plain_html(body, html.clone())),
                    None => b.header(ContentType::TEXT_PLAIN).body(body),
                }
                .map_err(|err| Failure::permanent(err.to_string()))?;
                t.send(msg).await.map(|_| ()).map_err(|err| Failure {
                    permanent: err.is_permanent(),
                    error: err.to_string(),
                })
            }
        }
    }

    /// When to try again after `attempts` failed attempts (this one included), or
    /// `None` to give up.
    fn retry_at(&self, attempts: i32, now: chrono::DateTime<chrono::Utc>) -> Option<chrono::DateTime<chrono::Utc>> {
        if attempts >= MAX_ATTEMPTS {
            return None;
        }
        let doubled = self
            .retry_first
            .saturating_mul(1u32 << (attempts - 1).clamp(0, 20))
            .min(Duration::from_secs(3600));
        // Jitter: between half and all of the delay.
        let jitter = 0.5 + f64::from(getrandom::u32().unwrap_or(u32::MAX / 2)) / f64::from(u32::MAX) / 2.0;
        let delay = chrono::Duration::from_std(doubled.mul_f64(jitter)).unwrap_or(chrono::Duration::hours(1));
        Some(now + delay)
    }
}

/// An SMTP transport from a `smtp://` or `smtps://` URL.
fn smtp(raw: &str, ca_file: Option<&Path>) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let bad = |why: &str| format!("HEEPR_MAIL: {why} (forms: {FORMS})");
    let url = url::Url::parse(raw).map_err(|e| bad(&format!("not a URL ({e})")))?;
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| bad("no host"))?
        .to_owned();
    let mut tls_mode = None;
    for (k, v) in url.query_pairs() {
        match (k.as_ref(), v.as_ref()) {
            ("tls", "required" | "opportunistic") => tls_mode = Some(v.into_owned()),
            _ => return Err(bad(&format!("unknown setting {k}={v}"))),
        }
    }
    let implicit = match url.scheme() {
        "smtps" if tls_mode.is_none() => true,
        "smtps" => return Err(bad("smtps:// is TLS already: no ?tls=")),
        "smtp" => false,
        other => return Err(bad(&format!("unknown scheme {other}://"))),
    };
    let params = || {
        let mut b = TlsParameters::builder(host.clone());
        if let Some(path) = ca_file {
            let pem = std::fs::read(path).map_err(|e| format!("HEEPR_MAIL_CA_FILE {}: {e}", path.display()))?;
            let cert =
                Certificate::from_pem(&pem).map_err(|e| format!("HEEPR_MAIL_CA_FILE {}: {e}", path.display()))?;
            b = b.add_root_certificate(cert);
        }
        b.build().map_err(|e| format!("HEEPR_MAIL: TLS settings: {e}"))
    };
    let (tls, default_port) = match (implicit, tls_mode.as_deref()) {
        (true, _) => (Tls::Wrapper(params()?), 465),
        (false, Some("required")) => (Tls::Required(params()?), 587),
        (false, Some(_)) => (Tls::Opportunistic(params()?), 587),
        (false, None) => (Tls::None, 25),
    };
    let encrypted = !matches!(tls, Tls::None | Tls::Opportunistic(_));
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(url.port().unwrap_or(default_port))
        .tls(tls)
        .timeout(Some(Duration::from_secs(20)));
    if !url.username().is_empty() {
        if !encrypted {
            return Err(bad("a user and password need TLS: use smtps:// or ?tls=required"));
        }
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| bad("user or password is not UTF-8"))
        };
        let user = decode(url.username())?;
        let pass = decode(url.password().unwrap_or_default())?;
        b = b.credentials(Credentials::new(user, pass));
    }
    Ok(b.build())
}

/// The body to send: the sealed one opened with the server key, else the stored one.
fn body_to_send(key: &ServerKey, e: &QueuedEmail) -> Result<String, Failure> {
    match &e.sealed_body {
        None => Ok(e.body.clone()),
        Some(sealed) => key
            .open(sealed, e.to.as_bytes())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| Failure {
                error: "the sealed body does not open with this instance's server key \
                        (every instance must use the same HEEPR_SECRET_KEY_FILE)"
                    .to_owned(),
                permanent: false,
            }),
    }
}

/// The email for a notice, or `None` when it is not emailed (the support queue, or a
/// kind the recipient switched off).
fn notice_email(n: &NoticeToMail, base_url: &str) -> Result<Option<NewEmail>, heepr_notice::Error> {
    let Some(to) = &n.to else {
        return Ok(None);
    };
    if !n.preferences.emails(n.notice.kind) {
        return Ok(None);
    }
    let r = &n.notice;
    let facts = heepr_notice::Facts {
        kind: r.kind,
        detail: &r.detail,
        role: &r.recipient,
        name: n.name.as_deref(),
        agent: r.agent_name.as_deref(),
        agent_id: r.agent_id.as_deref(),
        title: r.title.as_deref(),
        order_id: r.order_id.as_deref(),
        thread_id: r.thread_id.as_deref(),
        base_url,
    };
    let e = heepr_notice::email(&facts)?;
    Ok(Some(NewEmail {
        to: to.clone(),
        subject: e.subject,
        body: e.text,
        sealed_body: None,
        html_body: Some(e.html),
    }))
}

/// Emails claimed per pass; their outcomes are recorded in one transaction.
const EMAIL_BATCH: i64 = 50;

/// Emails of a batch in flight at once over the SMTP connection pool.
const SENDS_IN_FLIGHT: usize = 8;

/// An attempt's result: sent, or the failure and when to try again (`None`: given up).
type Attempt = Result<(), (Failure, Option<chrono::DateTime<chrono::Utc>>)>;

/// Sends a claimed batch, several at a time; answers each email's attempt in the batch's
/// order.
async fn send_batch(mailer: &Mailer, key: &ServerKey, batch: &[QueuedEmail]) -> Vec<Attempt> {
    use futures_util::stream::{self, StreamExt};
    stream::iter(batch)
        .map(|email| async move {
            let span = tracing::info_span!("email", id = %email.id);
            let result = match body_to_send(key, email) {
                Ok(body) => mailer.send(email, body).instrument(span.clone()).await,
                Err(e) => Err(e),
            };
            let outcome = if result.is_ok() { "sent" } else { "failed" };
            metrics::counter!("heepr_outbox_sends_total", "outcome" => outcome).increment(1);
            result.map_err(|f| {
                let retry_at = if f.permanent {
                    None
                } else {
                    mailer.retry_at(email.attempts + 1, chrono::Utc::now())
                };
                let _g = span.enter();
                match retry_at {
                    Some(at) => tracing::warn!(error = %f.error, retry_at = %at, "email not sent; will retry"),
                    None => tracing::warn!(error = %f.error, "email not sent; given up (dead letter)"),
                }
                (f, retry_at)
            })
        })
        .buffered(SENDS_IN_FLIGHT)
        .collect()
        .await
}

/// Notices handled per transaction.
const NOTICE_BATCH: i64 = 200;

/// Queues the emails of the notices not handled yet, a batch per transaction, until
/// none is left; each notice is handled once, whichever instance gets to it.
fn queue_notices(store: &Store, base_url: &str) -> Result<(), heepr_store::StoreError> {
    loop {
        let todo = store.notices_to_mail(NOTICE_BATCH)?;
        let mut batch = Vec::with_capacity(todo.len());
        for n in &todo {
            match notice_email(n, base_url) {
                Ok(e) => batch.push((n.notice.id.as_str(), e)),
                Err(e) => tracing::error!(notice = %n.notice.id, error = %e, "rendering a notice failed"),
            }
        }
        let refs: Vec<(&str, Option<&NewEmail>)> = batch.iter().map(|(id, e)| (*id, e.as_ref())).collect();
        store.queue_notice_emails(&refs, chrono::Utc::now())?;
        if (todo.len() as i64) < NOTICE_BATCH || refs.is_empty() {
            return Ok(());
        }
    }
}

pub async fn run(store: Store, mailer: Mailer, key: Arc<ServerKey>, base_url: String) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut full = false;
    loop {
        // A full batch means more may wait: go on at once instead of at the next tick.
        if !full {
            tick.tick().await;
        }
        let s = store.clone();
        let base = base_url.clone();
        let batch = tokio::task::spawn_blocking(move || {
            queue_notices(&s, &base)?;
            s.claim_unsent_emails(EMAIL_BATCH, chrono::Utc::now(), chrono::Duration::minutes(5))
        })
        .instrument(tracing::debug_span!("outbox"))
        .await;
        let batch = match batch {
            Ok(Ok(b)) => {
                full = b.len() == EMAIL_BATCH as usize;
                b
            }
            Ok(Err(e)) => {
                full = false;
                tracing::warn!(error = %e, "reading the outbox failed");
                continue;
            }
            Err(_) => {
                full = false;
                continue;
            }
        };
        let sends = send_batch(&mailer, &key, &batch).await;
        let s = store.clone();
        let recorded = tokio::task::spawn_blocking(move || {
            let sends: Vec<EmailAttempt<'_>> = batch
                .iter()
                .zip(&sends)
                .map(|(email, outcome)| EmailAttempt {
                    id: &email.id,
                    outcome: match outcome {
                        Ok(()) => AttemptOutcome::Sent,
                        Err((f, retry_at)) => AttemptOutcome::Failed {
                            error: &f.error,
                            retry_at: *retry_at,
                        },
                    },
                })
                .collect();
            s.record_attempts(&sends, chrono::Utc::now())
        })
        .await;
        if let Ok(Err(e)) = recorded {
            // The lease runs out and the batch is sent again: at least once, never lost.
            tracing::warn!(error = %e, "recording sent emails failed");
        }
    }
}
