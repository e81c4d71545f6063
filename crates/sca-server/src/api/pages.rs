//! The Area Clienti web pages (`ui/dist`, built by `npm run build` in `ui/`) at `/`.
//!
//! Release builds carry the pages inside the binary; debug builds read them from `ui/dist` on
//! each request, so a rebuilt UI shows without rebuilding the server. `SCA_UI_DIR` serves another
//! folder instead. Everything under `/api/` and `/dev/` stays the API's: a missing API route is a
//! problem+json 404, never a page.

use std::path::{Component, Path, PathBuf};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::state::AppState;

#[derive(rust_embed::Embed)]
#[folder = "$CARGO_MANIFEST_DIR/../../ui/dist"]
#[allow_missing = true]
struct Embedded;

/// Pages may load their own scripts, styles, images (the QR codes) and call the API; nothing else,
/// from nowhere else, and no page may frame them.
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The demo shop's page (issue 14), served in sandbox mode only; `/dev/shop` leads to it.
pub const SHOP: &str = "shop.html";

/// `/dev/shop`: the demo shop (sandbox only).
pub async fn dev_shop() -> Response {
    axum::response::Redirect::to(&format!("/{SHOP}")).into_response()
}

fn relative(path: &str) -> Option<PathBuf> {
    let trimmed = path.trim_start_matches('/');
    let file = if trimmed.is_empty() { "index.html" } else { trimmed };
    let candidate = PathBuf::from(file);
    // Only plain names: no `..`, no absolute paths, no drive prefixes.
    candidate
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then_some(candidate)
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" | "map" => "application/json",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

async fn load(state: &AppState, path: &Path) -> Option<Vec<u8>> {
    match &state.config().ui_dir {
        Some(dir) => tokio::fs::read(dir.join(path)).await.ok(),
        None => Embedded::get(&path.to_string_lossy()).map(|f| f.data.into_owned()),
    }
}

/// GET/HEAD of anything outside the API: a file of the built UI, or a 404.
pub async fn page(State(state): State<AppState>, method: Method, uri: Uri) -> Response {
    let path = uri.path();
    let api = path.starts_with("/api/") || path == "/api" || path.starts_with("/dev/");
    if api || !(method == Method::GET || method == Method::HEAD) {
        return AppError::not_found("route").into_response();
    }
    let Some(file) = relative(path) else {
        return AppError::not_found("page").into_response();
    };
    // The demo shop plays a merchant: a sandbox's page only.
    if file == Path::new(SHOP) && !state.config().sandbox {
        return AppError::not_found("page").into_response();
    }
    let Some(bytes) = load(&state, &file).await else {
        if file == Path::new("index.html") {
            return AppError::not_found(
                "page: the Area Clienti pages are not built (run `npm ci && npm run build` in ui/)",
            )
            .into_response();
        }
        return AppError::not_found("page").into_response();
    };
    // Built assets carry a content hash in their names: cache them for good; pages never.
    let cache = if file.starts_with("assets") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = Response::new(if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(bytes)
    });
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&file)));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    *response.status_mut() = StatusCode::OK;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_are_served() {
        assert_eq!(relative("/"), Some(PathBuf::from("index.html")));
        assert_eq!(
            relative("/assets/app-1a2b.js"),
            Some(PathBuf::from("assets/app-1a2b.js"))
        );
        assert_eq!(relative("/../secrets.key"), None);
        assert_eq!(relative("/assets/../../x"), None);
        assert_eq!(relative("//etc/passwd").map(|p| p.is_relative()), Some(true));
    }
}
