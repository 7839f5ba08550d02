//! Who may use the launcher: only this PC's browser that opened the URL `kuroko serve`
//! printed. Every request needs the token (from the URL once, then an HttpOnly cookie, or a
//! `Bearer` header for the ICT office's scripts); a Host other than 127.0.0.1/localhost:PORT is
//! refused (DNS rebinding); a POST from a browser must come from the launcher's own page
//! (Origin / Sec-Fetch-Site, against CSRF). Pure decisions, so each rule has its own test.

/// The cookie that carries the token after the first visit.
pub const COOKIE: &str = "kuroko_token";

/// What the guard knows about a request.
#[derive(Debug, Default, Clone)]
pub struct RequestInfo<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub host: Option<&'a str>,
    pub origin: Option<&'a str>,
    pub sec_fetch_site: Option<&'a str>,
    pub cookie: Option<&'a str>,
    pub authorization: Option<&'a str>,
}

/// The guard's answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// The first visit with `?token=`: set the cookie and send the browser to the page without
    /// the token in its address bar (and out of its history).
    SetCookieAndRedirect {
        cookie: String,
        location: String,
    },
    Refuse {
        status: u16,
        reason: &'static str,
    },
}

#[derive(Debug, Clone)]
pub struct Access {
    pub token: String,
    pub port: u16,
}

impl Access {
    /// A new random token (128 bits, hex).
    pub fn new(port: u16) -> std::io::Result<Access> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
        let token = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Access { token, port })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/?token={}", self.port, self.token)
    }

    fn host_ok(&self, host: &str) -> bool {
        let port = self.port.to_string();
        ["127.0.0.1", "localhost"].iter().any(|name| {
            host.eq_ignore_ascii_case(&format!("{name}:{port}"))
                // A browser leaves out the port only for port 80.
                || (self.port == 80 && host.eq_ignore_ascii_case(name))
        })
    }

    fn origin_ok(&self, origin: &str) -> bool {
        origin
            .strip_prefix("http://")
            .is_some_and(|host| self.host_ok(host))
    }

    fn token_ok(&self, given: &str) -> bool {
        constant_time_eq(given.as_bytes(), self.token.as_bytes())
    }

    pub fn check(&self, req: &RequestInfo<'_>) -> Verdict {
        let refuse = |status, reason| Verdict::Refuse { status, reason };
        match req.host {
            Some(host) if self.host_ok(host) => {}
            _ => return refuse(403, "this launcher answers only to 127.0.0.1 and localhost"),
        }
        if let Some(origin) = req.origin
            && !self.origin_ok(origin)
        {
            return refuse(403, "requests from other sites are refused");
        }
        let from_cookie = req
            .cookie
            .and_then(|c| cookie_value(c, COOKIE))
            .is_some_and(|t| self.token_ok(t));
        let from_bearer = req
            .authorization
            .and_then(|a| a.strip_prefix("Bearer "))
            .is_some_and(|t| self.token_ok(t.trim()));
        let from_query = req
            .query
            .and_then(|q| query_value(q, "token"))
            .is_some_and(|t| self.token_ok(t));

        let is_post = req.method.eq_ignore_ascii_case("POST");
        if is_post && !from_bearer {
            // A browser's POST: it must say it comes from this page. Browsers send Origin on
            // every POST; Sec-Fetch-Site where they know it.
            let same_site = req.origin.is_some()
                || req
                    .sec_fetch_site
                    .is_some_and(|s| s == "same-origin" || s == "none");
            if !same_site {
                return refuse(403, "a change must come from the launcher's own page");
            }
        }
        if from_cookie || from_bearer {
            return Verdict::Allow;
        }
        if from_query && req.method.eq_ignore_ascii_case("GET") && req.path == "/" {
            return Verdict::SetCookieAndRedirect {
                cookie: format!("{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/", self.token),
                location: "/".into(),
            };
        }
        refuse(
            401,
            "open the address that `kuroko serve` printed (it carries the access token)",
        )
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of `name` in a `Cookie:` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

fn query_value<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access() -> Access {
        Access {
            token: "abc123".into(),
            port: 8080,
        }
    }

    fn get<'a>(path: &'a str) -> RequestInfo<'a> {
        RequestInfo {
            method: "GET",
            path,
            host: Some("127.0.0.1:8080"),
            cookie: Some("other=1; kuroko_token=abc123"),
            ..Default::default()
        }
    }

    fn status(v: Verdict) -> u16 {
        match v {
            Verdict::Refuse { status, .. } => status,
            Verdict::Allow => 200,
            Verdict::SetCookieAndRedirect { .. } => 303,
        }
    }

    #[test]
    fn the_cookie_or_a_bearer_token_lets_a_request_in_and_nothing_else_does() {
        let a = access();
        assert_eq!(a.check(&get("/api/scenarios")), Verdict::Allow);
        let no_cookie = RequestInfo {
            cookie: None,
            ..get("/api/scenarios")
        };
        assert_eq!(status(a.check(&no_cookie)), 401);
        let wrong = RequestInfo {
            cookie: Some("kuroko_token=abc124"),
            ..get("/")
        };
        assert_eq!(status(a.check(&wrong)), 401);
        let bearer = RequestInfo {
            authorization: Some("Bearer abc123"),
            ..no_cookie.clone()
        };
        assert_eq!(a.check(&bearer), Verdict::Allow);
        // The token in the query is only for the first visit to the page, which sets the cookie.
        let api_with_query = RequestInfo {
            query: Some("token=abc123"),
            ..no_cookie.clone()
        };
        assert_eq!(status(a.check(&api_with_query)), 401);
        let first_visit = RequestInfo {
            path: "/",
            query: Some("token=abc123"),
            ..no_cookie
        };
        match a.check(&first_visit) {
            Verdict::SetCookieAndRedirect { cookie, location } => {
                assert!(cookie.starts_with("kuroko_token=abc123;"), "{cookie}");
                assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
                assert_eq!(location, "/");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_foreign_host_is_refused_even_with_the_token() {
        let a = access();
        for host in [
            Some("evil.example:8080"),
            Some("127.0.0.1:8081"),
            Some("127.0.0.1"),
            Some("localhost.evil.example:8080"),
            None,
        ] {
            let r = RequestInfo { host, ..get("/") };
            assert_eq!(status(a.check(&r)), 403, "{host:?}");
        }
        let r = RequestInfo {
            host: Some("LOCALHOST:8080"),
            ..get("/")
        };
        assert_eq!(a.check(&r), Verdict::Allow);
    }

    #[test]
    fn a_post_must_come_from_the_launchers_own_page() {
        let a = access();
        let post = |origin, site| RequestInfo {
            method: "POST",
            origin,
            sec_fetch_site: site,
            ..get("/api/requests/1/stop")
        };
        assert_eq!(
            a.check(&post(Some("http://127.0.0.1:8080"), None)),
            Verdict::Allow
        );
        assert_eq!(
            a.check(&post(Some("http://localhost:8080"), None)),
            Verdict::Allow
        );
        assert_eq!(
            status(a.check(&post(Some("http://evil.example"), None))),
            403
        );
        assert_eq!(status(a.check(&post(Some("null"), None))), 403);
        assert_eq!(
            status(a.check(&post(Some("https://127.0.0.1:8080"), None))),
            403
        );
        // Neither Origin nor Sec-Fetch-Site: not provably from the page.
        assert_eq!(status(a.check(&post(None, None))), 403);
        assert_eq!(a.check(&post(None, Some("same-origin"))), Verdict::Allow);
        assert_eq!(status(a.check(&post(None, Some("cross-site")))), 403);
        // A script with the bearer token is not a browser riding on a cookie.
        let script = RequestInfo {
            authorization: Some("Bearer abc123"),
            cookie: None,
            ..post(None, None)
        };
        assert_eq!(a.check(&script), Verdict::Allow);
    }

    #[test]
    fn tokens_are_random_and_the_url_carries_one() {
        let a = Access::new(1234).unwrap();
        let b = Access::new(1234).unwrap();
        assert_ne!(a.token, b.token);
        assert_eq!(a.token.len(), 32);
        assert_eq!(a.url(), format!("http://127.0.0.1:1234/?token={}", a.token));
    }
}
