//! Accounts, sessions and CSRF: argon2 password hashes, random session tokens kept only as
//! SHA-256 in the register, HttpOnly + SameSite=Strict cookies, and a per-session CSRF token that
//! every POST form carries. Scripts and OpenRefine may instead send HTTP Basic credentials.

use crate::{AppState, WebError, clock};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

pub const SESSION_COOKIE: &str = "kartoteka_session";
pub const LOGIN_COOKIE: &str = "kartoteka_login";
/// How long a session lasts without signing in again.
const SESSION_SECONDS: i64 = 12 * 3600;

/// What a user may do: viewers read (without sensitive data), reviewers also decide, admins also
/// re-run linkage and see everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Viewer,
    Reviewer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "reviewer" => Ok(Role::Reviewer),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role {other:?}: expected admin, reviewer or viewer")),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The signed-in user of a request.
#[derive(Clone, Debug)]
pub struct SessionUser {
    pub name: String,
    pub role: Role,
    /// The CSRF token forms must echo (empty for Basic-auth clients, which need none).
    pub csrf: String,
    /// Signed in with a cookie (so POSTs need the CSRF token), not with Basic credentials.
    pub via_cookie: bool,
}

impl SessionUser {
    /// Fails unless the user has at least `role`.
    pub fn require(&self, role: Role) -> Result<(), WebError> {
        if self.role >= role { Ok(()) } else { Err(WebError::Forbidden(format!("this needs the {role} role"))) }
    }

    /// Sensitive sources and fields are hidden from viewers only.
    pub fn sees_sensitive(&self) -> bool {
        self.role >= Role::Reviewer
    }

    /// Checks the JSON API's CSRF token (cookie sessions only). Basic-auth requests pass: a
    /// browser does re-send Basic credentials it once used, but a third-party page cannot send a
    /// JSON body without a CORS preflight, which this server never grants.
    pub fn check_csrf(&self, token: &str) -> Result<(), WebError> {
        if !self.via_cookie || constant_time_eq(self.csrf.as_bytes(), token.as_bytes()) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }

    /// Checks an HTML form's CSRF token. Forms need a cookie session: a browser re-sends Basic
    /// credentials it once used with any form a third-party page submits, and that form has
    /// no token, so Basic credentials must not stand in for one.
    pub fn check_form(&self, token: &str) -> Result<(), WebError> {
        if self.via_cookie && constant_time_eq(self.csrf.as_bytes(), token.as_bytes()) { Ok(()) } else { Err(WebError::Csrf) }
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A fresh random token, hex.
pub fn random_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, WebError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt).map_err(|e| WebError::Internal(e.to_string()))?.to_string())
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Adds a user (or replaces the password and role of an existing one). Names are 1-64
/// characters without control characters; passwords at least 8 characters.
pub fn add_user(conn: &Connection, name: &str, role: Role, password: &str) -> Result<(), WebError> {
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(WebError::bad("name", "a user name is 1 to 64 characters without control characters"));
    }
    if password.chars().count() < 8 {
        return Err(WebError::bad("password", "a password has at least 8 characters"));
    }
    let hash = hash_password(password)?;
    conn.execute(
        "INSERT INTO users (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash",
        params![name, role.as_str(), hash, clock::now()],
    )?;
    // A changed password ends the user's sessions.
    conn.execute("DELETE FROM sessions WHERE user_id = (SELECT user_id FROM users WHERE name = ?1)", [name])?;
    Ok(())
}

/// The role and password hash of the account `name`.
fn account(conn: &Connection, name: &str) -> Result<Option<(Role, String)>, WebError> {
    let row: Option<(String, String)> = conn
        .query_row("SELECT role, password_hash FROM users WHERE name = ?1", [name], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(role, hash)| Ok((role.parse().map_err(WebError::Internal)?, hash))).transpose()
}

/// Checks a name and password; the user's role and password hash when they match.
fn verified_account(conn: &Connection, name: &str, password: &str) -> Result<Option<(Role, String)>, WebError> {
    Ok(match account(conn, name)? {
        Some((role, hash)) if verify_password(password, &hash) => Some((role, hash)),
        Some(_) => None,
        None => {
            // Spend the same time as a wrong password, so names cannot be probed by timing.
            verify_password(password, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$4p2WKA1I8GX1/nQ4zWd1Wb8rWQfSyPHvvvvvvvvvvvs");
            None
        }
    })
}

/// Checks a name and password; the user's role when they match.
pub fn check_credentials(conn: &Connection, name: &str, password: &str) -> Result<Option<Role>, WebError> {
    Ok(verified_account(conn, name, password)?.map(|(role, _)| role))
}

/// Opens a session for `name`; returns the cookie token (only its hash is stored).
pub fn open_session(conn: &Connection, name: &str) -> Result<String, WebError> {
    let token = random_token();
    let now = clock::unix_now();
    conn.execute(
        "INSERT INTO sessions (token_sha256, user_id, csrf_token, created_at, expires_at)
         SELECT ?1, user_id, ?2, ?3, ?4 FROM users WHERE name = ?5",
        params![sha256_hex(&token), random_token(), clock::rfc3339(now), clock::rfc3339(now + SESSION_SECONDS), name],
    )?;
    // Expired sessions are of no use to anyone.
    conn.execute("DELETE FROM sessions WHERE expires_at < ?1", [clock::rfc3339(now)])?;
    Ok(token)
}

pub fn close_session(conn: &Connection, token: &str) -> Result<(), WebError> {
    conn.execute("DELETE FROM sessions WHERE token_sha256 = ?1", [sha256_hex(token)])?;
    Ok(())
}

/// The user of a session token, when the session exists and has not expired.
pub(crate) fn session_user(conn: &Connection, token: &str) -> Result<Option<SessionUser>, WebError> {
    let row: Option<(String, String, String)> = conn
        .query_row(
            "SELECT u.name, u.role, s.csrf_token FROM sessions s JOIN users u USING (user_id)
             WHERE s.token_sha256 = ?1 AND s.expires_at > ?2",
            params![sha256_hex(token), clock::now()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    row.map(|(name, role, csrf)| Ok(SessionUser { name, role: role.parse().map_err(WebError::Internal)?, csrf, via_cookie: true }))
        .transpose()
}

/// The value of cookie `name` in a request.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    cookie_in(&parts.headers, name)
}

/// The value of cookie `name` in a request's headers.
pub fn cookie_in<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value with the flags every cookie of the app carries.
pub fn set_cookie(name: &str, value: &str, path: &str, max_age: i64) -> String {
    format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={max_age}")
}

pub fn session_cookie(token: &str) -> String {
    set_cookie(SESSION_COOKIE, token, "/", SESSION_SECONDS)
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// The signed-in user of a request, if any (never fails: pages decide what anonymity means).
pub struct MaybeUser(pub Option<SessionUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<MaybeUser, WebError> {
        Ok(MaybeUser(user_of(&parts.headers, state).await?))
    }
}

/// The signed-in user of a request with these headers: a valid session cookie, or else HTTP
/// Basic credentials (checked once per client, then cached).
pub async fn user_of(headers: &HeaderMap, state: &AppState) -> Result<Option<SessionUser>, WebError> {
    if let Some(token) = cookie_in(headers, SESSION_COOKIE).map(str::to_owned)
        && let Some(user) = state.db.read(move |conn| session_user(conn, &token)).await?
    {
        return Ok(Some(user));
    }
    let basic = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .map(str::to_owned);
    if let Some(encoded) = basic {
        // Wrong credentials are no user: the handler answers 401 (API) or sends to sign in.
        let decoded = base64_decode(encoded.trim()).and_then(|b| String::from_utf8(b).ok());
        let Some((name, password)) = decoded.as_deref().and_then(|d| d.split_once(':')) else { return Ok(None) };
        let (name, password) = (name.to_owned(), password.to_owned());
        let cache_key = sha256_hex(&encoded);
        let verified = basic_cache(state).get(&cache_key).cloned();
        // The account is read on every request, so a changed password or role (`kartoteka user
        // add` while the server runs) counts at once; argon2 runs only when the hash is new.
        let checked_name = name.clone();
        let Some((role, hash)) = state
            .db
            .read(move |conn| match account(conn, &checked_name)? {
                Some((role, hash)) if verified.as_ref() == Some(&hash) => Ok(Some((role, hash))),
                _ => verified_account(conn, &checked_name, &password),
            })
            .await?
        else {
            basic_cache(state).remove(&cache_key);
            return Ok(None);
        };
        basic_cache(state).insert(cache_key, hash);
        return Ok(Some(SessionUser { name, role, csrf: String::new(), via_cookie: false }));
    }
    Ok(None)
}

/// The cache of verified Basic headers. A panic while it was held leaves at worst one entry
/// missing or stale, and the account is read again on every request, so it is used as it is
/// (as the register's writer is) rather than failing every later request.
fn basic_cache(state: &AppState) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, String>> {
    state.basic_cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A signed-in user; requests without one are sent to sign in (pages) or get 401 (API).
pub struct User(pub SessionUser);

impl FromRequestParts<AppState> for User {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<User, WebError> {
        match MaybeUser::from_request_parts(parts, state).await? {
            MaybeUser(Some(user)) => Ok(User(user)),
            MaybeUser(None) => Err(WebError::NotSignedIn),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_round_trip_of_known_values() {
        assert_eq!(super::base64_decode("YWRtaW46c2VjcmV0LXBhc3M=").unwrap(), b"admin:secret-pass");
        assert_eq!(super::base64_decode("bm8="), Some(b"no".to_vec()));
        assert_eq!(super::base64_decode("b!"), None);
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let hash = super::hash_password("correct horse").unwrap();
        assert!(super::verify_password("correct horse", &hash));
        assert!(!super::verify_password("correct hors", &hash));
    }
}
