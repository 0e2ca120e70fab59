//! Errors of the web app, and how each becomes a response: a page for browsers, JSON for the API.

use crate::html;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("register: {0}")]
    Store(#[from] store::StoreError),
    #[error("register database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("manifest: {0}")]
    Manifest(String),
    #[error("linkage: {0}")]
    Link(#[from] link::pipeline::LinkError),
    #[error("sign in first")]
    NotSignedIn,
    #[error("{0}")]
    Forbidden(String),
    #[error("the form is stale or was not sent by this site (CSRF token mismatch); reload the page and try again")]
    Csrf,
    #[error("{0} not found")]
    NotFound(String),
    /// Input that does not validate: which field, and what was expected.
    #[error("{field}: {message}")]
    BadRequest { field: String, message: String },
    /// Someone else changed the item first; the message says what they did.
    #[error("{0}")]
    Conflict(String),
    /// A version the client saw is no longer current: `item` names whose (a pair, or
    /// `person:ID`), the message what changed.
    #[error("{message}")]
    Stale { item: String, message: String },
    #[error("internal error: {0}")]
    Internal(String),
}

impl WebError {
    pub fn bad(field: &str, message: impl Into<String>) -> WebError {
        WebError::BadRequest { field: field.to_owned(), message: message.into() }
    }

    /// The register is locked by another writer (`kartoteka build` or a re-link) for longer than
    /// the busy timeout: nothing is wrong, the request can be sent again.
    fn busy(&self) -> bool {
        let sqlite = match self {
            WebError::Sqlite(e) => e,
            WebError::Store(store::StoreError::Sqlite(e)) => e,
            _ => return false,
        };
        matches!(sqlite.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
    }

    pub fn status(&self) -> StatusCode {
        if self.busy() {
            return StatusCode::SERVICE_UNAVAILABLE;
        }
        match self {
            WebError::NotSignedIn => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            WebError::Conflict(_) | WebError::Stale { .. } => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        if self.busy() {
            return "busy";
        }
        match self {
            WebError::NotSignedIn => "unauthorized",
            WebError::Forbidden(_) => "forbidden",
            WebError::Csrf => "csrf",
            WebError::NotFound(_) => "not_found",
            WebError::BadRequest { .. } => "invalid",
            WebError::Conflict(_) | WebError::Stale { .. } => "conflict",
            _ => "internal",
        }
    }
}

/// Pages: sign-in redirects for anonymous users, a short error page otherwise.
impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if matches!(self, WebError::NotSignedIn) {
            return (StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response();
        }
        let status = self.status();
        let body = html::page(status.canonical_reason().unwrap_or("Error"), None, &format!("<p class=\"error\">{}</p>", html::esc(&self.to_string())));
        (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
    }
}

/// The API's errors: `{"error": {"code", "message", "field"?}}` with the matching status; a stale
/// version also names its `item`, and as `field` where the client sent it (`version` for the
/// pair, `persons` for a person).
#[derive(Debug)]
pub struct ApiError(pub WebError);

impl From<WebError> for ApiError {
    fn from(e: WebError) -> ApiError {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = serde_json::json!({"code": self.0.code(), "message": self.0.to_string()});
        if let WebError::BadRequest { field, message } = &self.0 {
            error["field"] = field.as_str().into();
            error["message"] = message.as_str().into();
        }
        if let WebError::Stale { item, .. } = &self.0 {
            error["field"] = if crate::review::person_of_item(item).is_some() { "persons" } else { "version" }.into();
            error["item"] = item.as_str().into();
        }
        let mut response = (self.0.status(), Json(serde_json::json!({ "error": error }))).into_response();
        if self.0.busy() {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        if matches!(self.0, WebError::NotSignedIn) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"kartoteka\""));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::WebError;
    use axum::http::StatusCode;

    #[test]
    fn a_register_locked_by_a_build_is_503_busy_not_a_500() {
        let locked = || rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY), None);
        for e in [WebError::Sqlite(locked()), WebError::Store(store::StoreError::Sqlite(locked()))] {
            assert_eq!((e.status(), e.code()), (StatusCode::SERVICE_UNAVAILABLE, "busy"), "{e}");
        }
        let broken = WebError::Sqlite(rusqlite::Error::InvalidQuery);
        assert_eq!((broken.status(), broken.code()), (StatusCode::INTERNAL_SERVER_ERROR, "internal"));
    }
}
