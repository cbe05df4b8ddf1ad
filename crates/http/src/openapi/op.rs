//! What one route documents: summary, who may call it, its body, query and answers.
//! Built next to the route it describes (`routes/table.rs`), so the two cannot drift.

use utoipa::openapi::path::{Operation, OperationBuilder, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{Object, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Content, ContentBuilder, Ref, RefOr, Required, ResponseBuilder};
use utoipa::{IntoParams, ToSchema};

/// Who may call a route (the security schemes of the document).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    /// Anyone.
    Public,
    /// A session cookie (mutations also send `X-Heepr-Client`).
    Session,
    /// A session with the `owner` role.
    Owner,
    /// A session with the `admin` role.
    Admin,
    /// `Authorization: Bearer sk_live_…`.
    Agent,
    /// `Authorization: Bootstrap bs_…`.
    Bootstrap,
    /// AgentMarket `X-API-Key`.
    MarketKey,
    /// AgentMarket `X-API-Key`, optional (answers differ with it).
    MarketKeyOptional,
}

/// Which error envelope a route answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Envelope {
    /// `{"error": {"code", "message", "field"?}}`.
    Api,
    /// AgentMarket's `{"success": false, "error", "code", "field"?}`.
    Compat,
}

/// A content type and its schema.
type Body = (&'static str, RefOr<Schema>);

/// A route's documentation, turned into an OpenAPI operation by [`Op::operation`].
pub(crate) struct Op {
    summary: &'static str,
    description: Option<&'static str>,
    tag: &'static str,
    auth: Auth,
    envelope: Envelope,
    body: Option<Body>,
    multipart: Option<RefOr<Schema>>,
    params: Vec<Parameter>,
    responses: Vec<(u16, &'static str, Option<Body>)>,
    errors: Vec<u16>,
    /// Schemas referenced by this operation, for the document's components.
    pub(crate) schemas: Vec<(String, RefOr<Schema>)>,
}

/// Starts documenting a route.
pub(crate) fn op(tag: &'static str, summary: &'static str, auth: Auth) -> Op {
    let envelope = match auth {
        Auth::MarketKey | Auth::MarketKeyOptional => Envelope::Compat,
        _ => Envelope::Api,
    };
    Op {
        summary,
        description: None,
        tag,
        auth,
        envelope,
        body: None,
        multipart: None,
        params: Vec::new(),
        responses: Vec::new(),
        errors: Vec::new(),
        schemas: Vec::new(),
    }
}

fn reference<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema> {
    schemas.push((T::name().into_owned(), T::schema()));
    T::schemas(schemas);
    RefOr::Ref(Ref::from_schema_name(T::name()))
}

/// Any JSON object (a body heepr validates field by field, or passes through).
pub(crate) fn any_object() -> RefOr<Schema> {
    RefOr::T(Schema::Object(ObjectBuilder::new().schema_type(Type::Object).build()))
}

fn string_schema() -> Object {
    ObjectBuilder::new().schema_type(Type::String).build()
}

impl Op {
    /// A longer explanation.
    pub(crate) fn about(mut self, text: &'static str) -> Self {
        self.description = Some(text);
        self
    }

    /// A JSON request body of type `T`.
    pub(crate) fn body<T: ToSchema>(mut self) -> Self {
        let r = reference::<T>(&mut self.schemas);
        self.body = Some(("application/json", r));
        self
    }

    /// A JSON request body that is any object (validated by the handler).
    pub(crate) fn body_object(mut self) -> Self {
        self.body = Some(("application/json", any_object()));
        self
    }

    /// Also accepts `multipart/form-data`: the text parts `fields` (`required` ones
    /// first) and any number of `files`.
    pub(crate) fn or_multipart(mut self, fields: &[&'static str], required: usize) -> Self {
        use utoipa::openapi::schema::ArrayBuilder;
        let mut form = ObjectBuilder::new().schema_type(Type::Object);
        for (i, f) in fields.iter().enumerate() {
            form = form.property(*f, string_schema());
            if i < required {
                form = form.required(*f);
            }
        }
        let form = form
            .property(
                "files",
                ArrayBuilder::new()
                    .items(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .content_media_type("application/octet-stream")
                            .build(),
                    )
                    .build(),
            )
            .build();
        self.multipart = Some(RefOr::T(Schema::Object(form)));
        self
    }

    /// Query parameters from `T`.
    pub(crate) fn query<T: IntoParams>(mut self) -> Self {
        self.params.extend(T::into_params(|| Some(ParameterIn::Query)));
        self
    }

    /// A JSON answer of type `T` with `status`.
    pub(crate) fn json<T: ToSchema>(mut self, status: u16, what: &'static str) -> Self {
        let r = reference::<T>(&mut self.schemas);
        self.responses.push((status, what, Some(("application/json", r))));
        self
    }

    /// AgentMarket's success envelope around `T` (`many`: a list of `T` with `next`).
    pub(crate) fn compat<T: ToSchema>(mut self, status: u16, many: bool, what: &'static str) -> Self {
        let data = reference::<T>(&mut self.schemas);
        let data: RefOr<Schema> = if many {
            RefOr::T(Schema::Array(
                utoipa::openapi::schema::ArrayBuilder::new().items(data).build(),
            ))
        } else {
            data
        };
        let nullable_string = ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                Type::String,
                Type::Null,
            ]))
            .build();
        let envelope = ObjectBuilder::new()
            .property("success", ObjectBuilder::new().schema_type(Type::Boolean).build())
            .required("success")
            .property("data", data)
            .required("data")
            .property("balance", ObjectBuilder::new().schema_type(Type::Integer).build())
            .property("next", nullable_string)
            .build();
        let schema = RefOr::T(Schema::Object(envelope));
        self.responses.push((status, what, Some(("application/json", schema))));
        self
    }

    /// A JSON answer that is any object.
    pub(crate) fn json_object(mut self, status: u16, what: &'static str) -> Self {
        self.responses
            .push((status, what, Some(("application/json", any_object()))));
        self
    }

    /// A non-JSON answer (a file, a page, text) of `content_type`.
    pub(crate) fn bytes(mut self, status: u16, content_type: &'static str, what: &'static str) -> Self {
        let schema = RefOr::T(Schema::Object(string_schema()));
        self.responses.push((status, what, Some((content_type, schema))));
        self
    }

    /// An answer with no body.
    pub(crate) fn empty(mut self, status: u16, what: &'static str) -> Self {
        self.responses.push((status, what, None));
        self
    }

    /// Error statuses beyond the ones every route of its kind can answer.
    pub(crate) fn errors(mut self, statuses: &[u16]) -> Self {
        self.errors.extend_from_slice(statuses);
        self
    }

    /// The OpenAPI operation for `method path`.
    pub(crate) fn operation(&self, method: &str, path: &str) -> Operation {
        let mut b = OperationBuilder::new()
            .summary(Some(self.summary))
            .description(self.description)
            .tag(self.tag)
            .operation_id(Some(operation_id(method, path)));
        for name in path_params(path) {
            b = b.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(string_schema())),
            );
        }
        for p in &self.params {
            b = b.parameter(p.clone());
        }
        if let Some((ct, schema)) = &self.body {
            let mut body = RequestBodyBuilder::new()
                .content(*ct, ContentBuilder::new().schema(Some(schema.clone())).build())
                .required(Some(Required::True));
            if let Some(form) = &self.multipart {
                body = body.content(
                    "multipart/form-data",
                    ContentBuilder::new().schema(Some(form.clone())).build(),
                );
            }
            b = b.request_body(Some(body.build()));
        }
        for (status, what, content) in &self.responses {
            let mut r = ResponseBuilder::new().description(*what);
            if let Some((ct, schema)) = content {
                r = r.content(*ct, Content::new(Some(schema.clone())));
            }
            b = b.response(status.to_string(), r.build());
        }
        for status in self.error_statuses(method) {
            let envelope = match self.envelope_for(path) {
                Envelope::Api => "ErrorEnvelope",
                Envelope::Compat => "CompatError",
            };
            let r = ResponseBuilder::new()
                .description(super::codes::describe(status))
                .content("application/json", Content::new(Some(Ref::from_schema_name(envelope))))
                .build();
            b = b.response(status.to_string(), r);
        }
        for req in security(self.auth, method) {
            b = b.security(req);
        }
        b.build()
    }

    /// The AgentMarket surface answers errors in its own envelope, whoever calls.
    fn envelope_for(&self, path: &str) -> Envelope {
        if path.starts_with(crate::routes::market::PREFIX) {
            Envelope::Compat
        } else {
            self.envelope
        }
    }

    /// Every error status: those any route of this kind can answer, and the route's own.
    fn error_statuses(&self, method: &str) -> Vec<u16> {
        // 400: a path or query that does not parse; 404: an unknown id.
        let mut s = vec![400, 404];
        match self.auth {
            Auth::Public => {}
            Auth::MarketKeyOptional => s.push(401),
            _ => s.extend([401, 403]),
        }
        if !self.params.is_empty() {
            // A query value out of its range is a refused field.
            s.push(422);
        }
        if self.body.is_some() || method != "GET" {
            // 408: a stalled body; 413/415: size and type; 422: a refused field.
            s.extend([408, 413, 415, 422]);
        }
        s.extend(self.errors.iter().copied());
        s.sort_unstable();
        s.dedup();
        s.retain(|st| !self.responses.iter().any(|(ok, _, _)| ok == st));
        s
    }
}

fn security(auth: Auth, method: &str) -> Vec<SecurityRequirement> {
    let req = |names: &[&str]| {
        let mut r = SecurityRequirement::default();
        for n in names {
            r = r.add(*n, Vec::<String>::new());
        }
        r
    };
    let mutating = method != "GET";
    match auth {
        Auth::Public => Vec::new(),
        Auth::Session | Auth::Owner | Auth::Admin if mutating => vec![req(&["session", "client"])],
        Auth::Session | Auth::Owner | Auth::Admin => vec![req(&["session"])],
        Auth::Agent => vec![req(&["agentKey"])],
        Auth::Bootstrap => vec![req(&["bootstrap"])],
        Auth::MarketKey => vec![req(&["marketKey"])],
        Auth::MarketKeyOptional => vec![req(&["marketKey"]), SecurityRequirement::default()],
    }
}

/// `{id}` and `{file}` of `/api/orders/{id}/attachments/{file}`.
pub(crate) fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

/// A stable, unique id: `post_api_customer_orders_id_accept`.
fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_ascii_lowercase();
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        id.push('_');
        id.extend(
            seg.chars()
                .filter(|c| *c != '{' && *c != '}')
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
        );
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_params_are_read_from_the_template() {
        assert_eq!(path_params("/api/orders/{id}/attachments/{file}"), ["id", "file"]);
        assert!(path_params("/api/me").is_empty());
    }

    #[test]
    fn operation_ids_are_named_after_method_and_path() {
        assert_eq!(
            operation_id("POST", "/api/customer/orders/{id}/accept"),
            "post_api_customer_orders_id_accept"
        );
        assert_eq!(
            operation_id("GET", "/.well-known/agent-card.json"),
            "get__well_known_agent_card_json"
        );
    }
}
