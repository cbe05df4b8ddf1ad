//! A real S3-compatible server started by a test: moto's server mode (`moto_server`,
//! from PyPI's `moto[server]`) on a free loopback port, with one bucket. Objects are
//! read back over its S3 API (plain HTTP: moto does not check signatures).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct S3Peer {
    child: Child,
    pub port: u16,
    pub bucket: String,
}

/// moto's server, installed from PyPI if this machine lacks it (`.ci/run` installs it
/// up front; this keeps `cargo test --workspace` a single command elsewhere).
fn ensure_moto() {
    static ONCE: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| {
        let have = Command::new("python3")
            .args(["-c", "import moto.server, flask, flask_cors"])
            .status()
            .expect("python3 must be installed to run the S3 peer");
        if !have.success() {
            let st = Command::new("python3")
                .args(["-m", "pip", "install", "--quiet", "moto[server]==5.2.1"])
                .status()
                .unwrap();
            assert!(st.success(), "installing moto[server] failed");
        }
    });
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl S3Peer {
    /// Starts moto and creates `bucket`, waiting (with a deadline) until it answers.
    #[allow(clippy::zombie_processes)] // killed and waited for on drop
    pub async fn start(bucket: &str) -> Self {
        ensure_moto();
        let port = free_port();
        let child = Command::new("python3")
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_ALLOW_NONEXISTENT_REGION", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let peer = Self {
            child,
            port,
            bucket: bucket.to_owned(),
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = http.put(peer.bucket_url()).send().await {
                assert!(r.status().is_success(), "creating the bucket: {}", r.status());
                return peer;
            }
            assert!(Instant::now() < deadline, "moto_server did not answer within 30 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn bucket_url(&self) -> String {
        format!("{}/{}", self.endpoint(), self.bucket)
    }

    /// The server's settings for this store (`prefix` may be empty).
    pub fn env(&self, prefix: &str) -> Vec<(&'static str, String)> {
        vec![
            ("HEEPR_OBJECT_STORE_URL", format!("s3://{}/{prefix}", self.bucket)),
            ("HEEPR_OBJECT_STORE_ENDPOINT", self.endpoint()),
            ("HEEPR_OBJECT_STORE_REGION", "us-east-1".into()),
            ("HEEPR_OBJECT_STORE_ACCESS_KEY_ID", "testing".into()),
            ("HEEPR_OBJECT_STORE_SECRET_ACCESS_KEY", "testing".into()),
            ("HEEPR_OBJECT_STORE_TIMEOUT_SECS", "3".into()),
        ]
    }

    /// The keys in the bucket under `prefix` (a ListObjectsV2 call, parsed loosely).
    pub async fn keys(&self, prefix: &str) -> Vec<String> {
        let xml = reqwest::Client::new()
            .get(format!("{}?list-type=2&prefix={prefix}", self.bucket_url()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        xml.split("<Key>")
            .skip(1)
            .filter_map(|s| s.split("</Key>").next())
            .map(str::to_owned)
            .collect()
    }

    /// Stops the server (the store becomes unreachable).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for S3Peer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `extra` as the `&[(&str, &str)]` the server helpers take.
pub fn pairs<'a>(extra: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    extra.iter().map(|(k, v)| (*k, v.as_str())).collect()
}
