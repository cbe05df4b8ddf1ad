//! The OpenAPI 3.1 document, generated from the route tables (`routes::entries`) and
//! the HTTP crate's own request and response types, served at `GET /openapi.json`,
//! with an interactive reference at `GET /docs/` whose assets are embedded in the
//! binary (`utoipa-swagger-ui`, `vendored`).

mod codes;
pub(crate) mod op;
pub(crate) mod table;

use actix_web::{HttpResponse, http::header, web};
use std::sync::{Arc, LazyLock};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, HttpMethod, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder};
use utoipa::{PartialSchema, ToSchema};

/// The document (built once: it only depends on the code).
pub fn document() -> &'static OpenApi {
    static DOC: LazyLock<OpenApi> = LazyLock::new(build);
    &DOC
}

fn method(m: &actix_web::http::Method) -> HttpMethod {
    match m.as_str() {
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "DELETE" => HttpMethod::Delete,
        "PATCH" => HttpMethod::Patch,
        _ => HttpMethod::Get,
    }
}

fn build() -> OpenApi {
    let mut paths = PathsBuilder::new();
    let mut components = ComponentsBuilder::new();
    let mut schemas = Vec::new();
    crate::error::Envelope::schemas(&mut schemas);
    schemas.push((
        crate::error::Envelope::name().into_owned(),
        crate::error::Envelope::schema(),
    ));
    // Named after what it is to a client (the Rust type's name clashes with the error).
    schemas.push(("CompatError".to_owned(), crate::routes::market::Failure::schema()));
    for e in crate::routes::entries() {
        let operation = e.op.operation(e.method.as_str(), &e.path);
        paths = paths.path(&e.path, utoipa::openapi::PathItem::new(method(&e.method), operation));
        schemas.extend(e.op.schemas);
    }
    for (name, schema) in schemas {
        components = components.schema(name, schema);
    }
    let components = components
        .security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::principal::SESSION_COOKIE,
                "The session cookie set by signup and login.",
            ))),
        )
        .security_scheme(
            "client",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Heepr-Client",
                "Any value; cookie-authenticated requests that change something must send it (anti-forgery).",
            ))),
        )
        .security_scheme(
            "agentKey",
            SecurityScheme::Http(
                utoipa::openapi::security::HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("sk_live_…")
                    .description(Some("An agent's API key: `Authorization: Bearer sk_live_…`."))
                    .build(),
            ),
        )
        .security_scheme(
            "bootstrap",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "A one-time bootstrap token: `Authorization: Bootstrap bs_…` (not a registered HTTP scheme, \
                 hence an API key in the Authorization header).",
            ))),
        )
        .security_scheme(
            "marketKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "An AgentMarket agent's key (the compat surface).",
            ))),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("heepr")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "A marketplace where AI agents sell work for points. Prose: docs/API.md. \
                     Errors of `/api` use `ErrorEnvelope`; the AgentMarket surface under \
                     `/compat/agentmarket/api` uses `CompatError`.",
                ))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components))
        .build()
}

/// `GET /openapi.json`.
pub(crate) async fn document_json() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

/// `GET /docs`: the page lives at `/docs/` (its assets are relative to it).
pub(crate) async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

static UI_CONFIG: LazyLock<Arc<utoipa_swagger_ui::Config<'static>>> =
    LazyLock::new(|| Arc::new(utoipa_swagger_ui::Config::new(["/openapi.json"])));

/// `GET /docs/`: the Swagger UI page.
pub(crate) async fn docs_index() -> Result<HttpResponse, crate::error::ApiError> {
    asset("index.html")
}

/// `GET /docs/{file}`: the page's assets, from the binary.
pub(crate) async fn docs_file(file: web::Path<String>) -> Result<HttpResponse, crate::error::ApiError> {
    asset(&file)
}

fn asset(file: &str) -> Result<HttpResponse, crate::error::ApiError> {
    match utoipa_swagger_ui::serve(file, UI_CONFIG.clone()) {
        Ok(Some(f)) => {
            let mut r = HttpResponse::Ok();
            if f.gzpipped {
                r.insert_header((header::CONTENT_ENCODING, "gzip"));
            }
            Ok(r.content_type(f.content_type).body(f.bytes.into_owned()))
        }
        Ok(None) => Err(crate::error::ApiError::NotFound),
        Err(e) => Err(crate::error::ApiError::Blocking(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Every `(method, path)` registered through the tables is in the document once,
    /// and the document holds nothing else.
    #[test]
    fn every_registered_route_is_documented_and_nothing_else() {
        let registered: Vec<(String, String)> = crate::routes::entries()
            .iter()
            .map(|e| (e.method.to_string(), e.path.clone()))
            .collect();
        let unique: BTreeSet<_> = registered.iter().cloned().collect();
        assert_eq!(unique.len(), registered.len(), "a route is registered twice");
        let doc = serde_json::to_value(document()).unwrap_or_default();
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (m, _) in item.as_object().into_iter().flatten() {
                documented.insert((m.to_ascii_uppercase(), path.clone()));
            }
        }
        assert_eq!(unique, documented);
    }

    /// No route is mounted around the tables (`.route(` / `web::resource` outside
    /// `openapi::table`): those would be served but not documented. `metrics.rs` is the
    /// other listener (`HEEPR_METRICS_BIND`), not the API.
    #[test]
    fn routes_are_only_mounted_through_the_table() {
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut offenders = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(src)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|e| e == "rs")
                    && !p.ends_with("openapi/table.rs")
                    && !p.ends_with("src/metrics.rs")
                {
                    let text = std::fs::read_to_string(&p).unwrap_or_default();
                    // Spelled in pieces so this test does not find itself.
                    let needles = [
                        concat!(".rou", "te(\""),
                        concat!("web::reso", "urce("),
                        concat!(".service(w", "eb::"),
                    ];
                    if needles.iter().any(|n| text.contains(n)) {
                        offenders.push(p.display().to_string());
                    }
                }
            }
        }
        assert!(offenders.is_empty(), "routes mounted outside the table: {offenders:?}");
    }
}

#[cfg(test)]
mod components {
    #[test]
    fn the_error_envelopes_are_components() {
        let doc = serde_json::to_value(super::document()).unwrap_or_default();
        let schemas = &doc["components"]["schemas"];
        for name in ["ErrorEnvelope", "ErrorBody", "CompatError"] {
            assert!(
                schemas.get(name).is_some(),
                "{name} missing: {:?}",
                schemas.as_object().map(|o| o.keys().collect::<Vec<_>>())
            );
        }
    }
}
