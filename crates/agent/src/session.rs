//! STEP 0–2 of SKILL.md: check the key, else register with the bootstrap token and keep
//! the key in its mode-600 file. Shared by `run`, `stop`, `status` and `mcp`.

use crate::api::Api;
use crate::bundle::{self, Bundle};
use crate::error::{AgentError, Result};
use crate::state::{self, Paths};

/// An agent ready to call the API: its checked bundle and a client holding a valid key.
pub struct Session {
    pub paths: Paths,
    pub bundle: Bundle,
    pub api: Api,
}

impl Session {
    /// Checks the bundle (a changed file is refused by name), then STEP 0–2.
    pub async fn open(paths: Paths) -> Result<Self> {
        let bundle = Bundle::open(&paths.dir)?;
        let base = bundle::base_url(&paths)?;
        let mut api = Api::new(&base, state::read_key(&paths))?;
        // STEP 0: a key that answers `GET /api/skill` is valid.
        let refused = match api.skill(None).await {
            Ok(_) => None,
            Err(e)
                if e.code()
                    .is_some_and(|c| matches!(c, "unauthorized" | "key_revoked" | "key_expired")) =>
            {
                Some(e.code().unwrap_or("unauthorized").to_owned())
            }
            Err(e) => return Err(e),
        };
        if let Some(code) = refused {
            // STEP 1: only with a token at hand; else the owner must act.
            let Ok(token) = std::fs::read_to_string(paths.token()) else {
                return Err(match code.as_str() {
                    "key_revoked" => AgentError::KeyRevoked("revoked".to_owned()),
                    "key_expired" => AgentError::KeyRevoked("expired".to_owned()),
                    _ if state::read_key(&paths).is_some() => AgentError::KeyRevoked("refused".to_owned()),
                    _ => AgentError::Register(format!("no key in {} and no {}", state::KEY_FILE, state::TOKEN_FILE)),
                });
            };
            let key = api
                .register(&token, &bundle.agent_id)
                .await
                .map_err(|e| AgentError::Register(e.to_string()))?;
            // STEP 2: the key goes to its file only, never to output.
            state::write_key(&paths, &key)?;
            let _ = std::fs::remove_file(paths.token());
            api.set_key(key);
            tracing::info!(agent_id = %bundle.agent_id, "registered");
        }
        state::ensure_dir(&paths.state_dir())?;
        Ok(Self { paths, bundle, api })
    }
}
