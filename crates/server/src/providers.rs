//! Identity providers from the environment (`HEEPR_AUTH_PROVIDERS` and, per name,
//! `HEEPR_AUTH_<NAME>_*`). A list is the only way to say which exist: provider names are
//! the operator's, so they cannot be clap flags of their own.

use crate::ServerError;
use heepr_http::signin::{ProviderConfig, ProviderKind};

const GOOGLE_ISSUER: &str = "https://accounts.google.com";

/// Reads each named provider's settings through `var`. A name that is not lower-case
/// letters, digits and `-`, a missing client id or secret, an OIDC provider without an
/// issuer, or an unknown `_KIND` is a configuration error (refused at start).
pub(crate) fn from_env(
    names: &[String],
    var: impl Fn(&str) -> Option<String>,
) -> Result<Vec<ProviderConfig>, ServerError> {
    let mut out: Vec<ProviderConfig> = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        if name.len() > 32
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(ServerError::Config(format!(
                "HEEPR_AUTH_PROVIDERS: {name:?} must be lower-case letters, digits and '-' (at most 32)"
            )));
        }
        if out.iter().any(|p| p.name == name) {
            return Err(ServerError::Config(format!("HEEPR_AUTH_PROVIDERS names {name} twice")));
        }
        let prefix = format!("HEEPR_AUTH_{}_", name.to_uppercase().replace('-', "_"));
        let get = |k: &str| var(&format!("{prefix}{k}")).filter(|v| !v.trim().is_empty());
        let need = |k: &str| get(k).ok_or_else(|| ServerError::Config(format!("{prefix}{k} is required")));
        let kind = get("KIND").unwrap_or_else(|| match name {
            "github" | "facebook" => name.to_owned(),
            _ => "oidc".to_owned(),
        });
        let or = |k: &str, default: &str| get(k).unwrap_or_else(|| default.to_owned());
        let kind = match kind.as_str() {
            "oidc" => ProviderKind::Oidc {
                issuer: match name {
                    "google" => or("ISSUER", GOOGLE_ISSUER),
                    _ => need("ISSUER")?,
                },
            },
            "github" => ProviderKind::GitHub {
                auth_url: or("AUTH_URL", "https://github.com/login/oauth/authorize"),
                token_url: or("TOKEN_URL", "https://github.com/login/oauth/access_token"),
                api_url: or("API_URL", "https://api.github.com"),
            },
            "facebook" => ProviderKind::Facebook {
                auth_url: or("AUTH_URL", "https://www.facebook.com/v19.0/dialog/oauth"),
                token_url: or("TOKEN_URL", "https://graph.facebook.com/v19.0/oauth/access_token"),
                api_url: or("API_URL", "https://graph.facebook.com/v19.0"),
            },
            other => {
                return Err(ServerError::Config(format!(
                    "{prefix}KIND must be oidc, github or facebook, not {other:?}"
                )));
            }
        };
        let display_name = get("DISPLAY_NAME").unwrap_or_else(|| match name {
            "google" => "Google".into(),
            "github" => "GitHub".into(),
            "facebook" => "Facebook".into(),
            other => other.to_owned(),
        });
        out.push(ProviderConfig {
            name: name.to_owned(),
            display_name,
            kind,
            client_id: need("CLIENT_ID")?,
            client_secret: need("CLIENT_SECRET")?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_by_default_and_defaults_per_name() {
        assert!(from_env(&[], |_| None).is_ok_and(|v| v.is_empty()));
        let env = |k: &str| match k {
            "HEEPR_AUTH_GOOGLE_CLIENT_ID" | "HEEPR_AUTH_GITHUB_CLIENT_ID" => Some("id".to_owned()),
            "HEEPR_AUTH_GOOGLE_CLIENT_SECRET" | "HEEPR_AUTH_GITHUB_CLIENT_SECRET" => Some("s".to_owned()),
            _ => None,
        };
        let got = from_env(&["google".into(), "github".into()], env).unwrap_or_default();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].kind,
            ProviderKind::Oidc {
                issuer: GOOGLE_ISSUER.into()
            }
        );
        assert_eq!(got[1].kind.as_str(), "github");
        assert!(
            from_env(&["acme".into()], env).is_err(),
            "an OIDC provider needs an issuer and a client"
        );
        assert!(from_env(&["Bad Name".into()], env).is_err());
    }
}
