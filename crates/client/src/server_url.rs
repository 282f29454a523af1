//! The server address as people type it ("oa.example.com", "localhost:8470/") turned into
//! one canonical URL, so the same server is never two accounts.

use url::Url;

use crate::error::{ClientError, ClientErrorCode, Result};

/// A canonical server base URL: scheme http or https, no trailing slash, no query.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerUrl(Url);

impl ServerUrl {
    /// Accepts what a person would type. Without a scheme, a loopback or private host gets
    /// `http://` (a local test server) and anything else `https://`.
    pub fn parse(input: &str) -> Result<Self> {
        let trimmed = input.trim();
        let invalid = |why: &str| {
            ClientError::new(
                ClientErrorCode::InvalidServerUrl,
                format!("'{}' is not a server address: {why}", input.trim()),
            )
            .with_url(input.trim())
        };
        if trimmed.is_empty() {
            return Err(invalid("it is empty"));
        }
        let with_scheme = if trimmed.contains("://") {
            trimmed.to_owned()
        } else if is_local(trimmed) {
            format!("http://{trimmed}")
        } else {
            format!("https://{trimmed}")
        };
        let url = Url::parse(&with_scheme).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("use an http:// or https:// address"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("it has no host name"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("remove the part after '?' or '#'"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("do not put a user name or password in the address"));
        }
        Ok(Self(url))
    }

    /// The canonical form, without a trailing slash.
    pub fn as_str(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }

    /// The URL of an API path such as `/v1/info`.
    pub fn join(&self, path: &str) -> String {
        format!("{}{}", self.as_str(), path)
    }
}

impl std::fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn is_local(host_and_rest: &str) -> bool {
    let host = host_and_rest
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    host == "localhost"
        || host.starts_with("127.")
        || host.starts_with("10.")
        || host.starts_with("192.168.")
        || host.ends_with(".local")
        || host.starts_with('[')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_addresses_become_one_canonical_url() {
        let cases = [
            ("localhost:8470", "http://localhost:8470"),
            ("http://127.0.0.1:8470/", "http://127.0.0.1:8470"),
            ("  oa.example.com ", "https://oa.example.com"),
            (
                "HTTPS://OA.Example.com/countersign/",
                "https://oa.example.com/countersign",
            ),
        ];
        for (typed, canonical) in cases {
            assert_eq!(
                ServerUrl::parse(typed).unwrap().as_str(),
                canonical,
                "{typed}"
            );
        }
    }

    #[test]
    fn unusable_addresses_are_refused_with_the_reason() {
        for bad in [
            "",
            "ftp://x",
            "http://",
            "https://a?b=c",
            "https://u:p@host",
        ] {
            let err = ServerUrl::parse(bad).unwrap_err();
            assert_eq!(err.code, ClientErrorCode::InvalidServerUrl, "{bad}");
        }
    }

    #[test]
    fn paths_are_joined_without_double_slashes() {
        let url = ServerUrl::parse("https://oa.example.com/cs/").unwrap();
        assert_eq!(url.join("/v1/info"), "https://oa.example.com/cs/v1/info");
    }
}
