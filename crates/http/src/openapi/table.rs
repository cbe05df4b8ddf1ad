//! The one way a route is registered: [`Table::route`] mounts the handler (when the
//! table mounts) and records its documentation. actix cannot list its routes
//! afterwards, so the document is built by running the same route tables with a
//! table that only records (`Table::recording`): what is served is what is documented.

use super::op::Op;
use actix_web::http::Method;
use actix_web::{FromRequest, Handler, Responder, Scope, web};

/// One documented route.
pub(crate) struct Entry {
    /// `GET`, `POST`, …
    pub(crate) method: Method,
    /// The full path template (`/api/orders/{id}/deliver`).
    pub(crate) path: String,
    /// Its documentation.
    pub(crate) op: Op,
}

enum Target<'a> {
    /// Mount onto a scope (finished with [`Table::into_scope`]).
    Scope(Option<Scope>),
    /// Mount directly on the application.
    Config(&'a mut web::ServiceConfig),
    /// Only record.
    Record,
}

/// Routes under one prefix.
pub(crate) struct Table<'a> {
    prefix: &'static str,
    target: Target<'a>,
    /// What was registered, in order.
    pub(crate) entries: Vec<Entry>,
}

impl<'a> Table<'a> {
    /// Mounts into `scope`, whose prefix is `prefix`.
    pub(crate) fn scoped(prefix: &'static str, scope: Scope) -> Self {
        Self {
            prefix,
            target: Target::Scope(Some(scope)),
            entries: Vec::new(),
        }
    }

    /// Mounts at the application's root.
    pub(crate) fn root(cfg: &'a mut web::ServiceConfig) -> Self {
        Self {
            prefix: "",
            target: Target::Config(cfg),
            entries: Vec::new(),
        }
    }

    /// Records only (for the document).
    pub(crate) fn recording(prefix: &'static str) -> Self {
        Self {
            prefix,
            target: Target::Record,
            entries: Vec::new(),
        }
    }

    /// Registers `method path` served by `handler`, documented by `op`.
    pub(crate) fn route<F, Args>(&mut self, method: Method, path: &'static str, handler: F, op: Op) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        match &mut self.target {
            Target::Scope(scope) => {
                if let Some(s) = scope.take() {
                    *scope = Some(s.route(path, web::method(method.clone()).to(handler)));
                }
            }
            Target::Config(cfg) => {
                cfg.route(path, web::method(method.clone()).to(handler));
            }
            Target::Record => {}
        }
        self.entries.push(Entry {
            method,
            path: format!("{}{}", self.prefix, path),
            op,
        });
        self
    }

    /// `GET path`.
    pub(crate) fn get<F, Args>(&mut self, path: &'static str, handler: F, op: Op) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::GET, path, handler, op)
    }

    /// `POST path`.
    pub(crate) fn post<F, Args>(&mut self, path: &'static str, handler: F, op: Op) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::POST, path, handler, op)
    }

    /// `PUT path`.
    pub(crate) fn put<F, Args>(&mut self, path: &'static str, handler: F, op: Op) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::PUT, path, handler, op)
    }

    /// The mounted scope (a recording or root table yields none).
    pub(crate) fn into_scope(self) -> Option<Scope> {
        match self.target {
            Target::Scope(s) => s,
            _ => None,
        }
    }
}
