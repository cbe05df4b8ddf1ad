//! Which providers are configured (`HEEPR_AUTH_PROVIDERS` and per-provider variables;
//! read by heepr-server). None by default.

/// One configured provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    /// Its name in routes (`/api/auth/{name}/start`): lower-case letters, digits, `-`.
    pub name: String,
    /// What the sign-in button says.
    pub display_name: String,
    /// How to talk to it.
    pub kind: ProviderKind,
    /// The OAuth client id heepr was registered with.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
}

/// The protocol a provider speaks, with its endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderKind {
    /// OpenID Connect: endpoints and keys from the issuer's discovery document.
    Oidc {
        /// The issuer URL (Google: `https://accounts.google.com`).
        issuer: String,
    },
    /// GitHub's OAuth 2 endpoints and REST user API.
    GitHub {
        /// Authorization endpoint (`https://github.com/login/oauth/authorize`).
        auth_url: String,
        /// Token endpoint (`https://github.com/login/oauth/access_token`).
        token_url: String,
        /// REST API base (`https://api.github.com`).
        api_url: String,
    },
    /// Facebook Login's OAuth 2 endpoints and Graph API.
    Facebook {
        /// Authorization endpoint (`https://www.facebook.com/v19.0/dialog/oauth`).
        auth_url: String,
        /// Token endpoint (`https://graph.facebook.com/v19.0/oauth/access_token`).
        token_url: String,
        /// Graph API base (`https://graph.facebook.com/v19.0`).
        api_url: String,
    },
}

impl ProviderKind {
    /// Wire name of the protocol.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Oidc { .. } => "oidc",
            Self::GitHub { .. } => "github",
            Self::Facebook { .. } => "facebook",
        }
    }
}

/// Sign-in settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignInConfig {
    /// The configured providers (none by default).
    pub providers: Vec<ProviderConfig>,
    /// Where a successful callback sends the browser (`HEEPR_AUTH_FRONTEND_URL`,
    /// default `/`).
    pub frontend_url: String,
}

impl SignInConfig {
    /// The provider named `name`, if configured.
    pub(crate) fn provider(&self, name: &str) -> Option<&ProviderConfig> {
        self.providers.iter().find(|p| p.name == name)
    }
}
