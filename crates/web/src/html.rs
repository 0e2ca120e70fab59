//! HTML output: escaping (every text from the register goes through [`esc`]) and the page frame.

use crate::auth::SessionUser;

/// Escapes text for an HTML element body or a quoted attribute value (the report's escaping).
pub use report::escape as esc;

/// Percent-encodes a query-string or path component.
pub fn url(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;color:#222}\
header{background:#2d3a4a;color:#fff;padding:.5em 1em;display:flex;gap:1.5em;align-items:center}\
header a{color:#fff}main{padding:1em 2em;max-width:80em}table{border-collapse:collapse;margin:.5em 0}\
td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}\
.conflict{background:#fff3cd}.muted{color:#777}.bar{display:inline-block;height:.8em}\
.pos{background:#3a7d44}.neg{background:#b33}.side{display:flex;gap:2em}.error{color:#b33}\
form.inline{display:inline}";

/// A whole page: the header (with the user's name and a sign-out form) and `body`.
pub fn page(title: &str, user: Option<&SessionUser>, body: &str) -> String {
    let nav = match user {
        Some(u) => format!(
            "<a href=\"/\">Search</a><a href=\"/sources\">Sources</a><a href=\"/review\">Review</a>\
             <a href=\"/analyses\">Analyses</a><span class=\"muted\">{name} ({role})</span>\
             <form class=\"inline\" method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button>Sign out</button></form>",
            name = esc(&u.name),
            role = u.role.as_str(),
            csrf = esc(&u.csrf),
        ),
        None => "<a href=\"/login\">Sign in</a>".to_owned(),
    };
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · kartoteka</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>{STYLE}</style></head>\
         <body><header><strong>kartoteka</strong>{nav}</header><main><h1>{title}</h1>{body}</main></body></html>",
        title = esc(title),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(super::esc("<script>alert('x')</script> & \"y\""), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;");
        assert_eq!(super::url("Ежов n/i"), "%D0%95%D0%B6%D0%BE%D0%B2%20n%2Fi");
    }
}
