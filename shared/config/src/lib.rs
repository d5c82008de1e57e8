//! Typed configuration from environment variables (twelve-factor).
//!
//! Every service reads its settings once, at start, through an [`Env`]. Each setting has a default
//! that works against the local stack (`deploy/stack/up.sh`), so `make run` needs no environment at
//! all; production overrides them. Errors are collected rather than returned one at a time, so a
//! misconfigured deployment learns everything that is wrong in one start. Secrets are wrapped in
//! [`Secret`], whose `Debug` and `Display` never show the value, so a logged config is safe.
//!
//! This is the only crate that calls `std::env::var`.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

/// A setting that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {problem}")]
pub struct SettingError {
    pub key: String,
    pub problem: String,
}

/// Every problem found in the configuration, reported together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct ConfigError(pub Vec<SettingError>);

/// A secret value (password, key). Shown as `***` everywhere; read it with [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for handing to the client library that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A URL that may carry a password (`postgres://user:pass@host/db`). Displays with the password
/// replaced by `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

impl SecretUrl {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        let url = &self.0;
        let Some(scheme_end) = url.find("://") else {
            return url.clone();
        };
        let rest = &url[scheme_end + 3..];
        let authority_end = rest.find('/').unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        match (authority.rfind('@'), authority.find(':')) {
            (Some(at), Some(colon)) if colon < at => format!(
                "{}://{}:***{}",
                &url[..scheme_end],
                &authority[..colon],
                &rest[at..]
            ),
            _ => url.clone(),
        }
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretUrl({})", self.redacted())
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Reads settings from a set of variables, collecting every error.
#[derive(Debug)]
pub struct Env {
    vars: HashMap<String, String>,
    errors: Vec<SettingError>,
}

impl Env {
    /// The process environment.
    #[expect(
        clippy::disallowed_methods,
        reason = "this is the one place settings come from"
    )]
    pub fn from_process() -> Self {
        Self::from_map(std::env::vars().collect())
    }

    /// A given set of variables (tests, or an overlay built by the caller).
    pub fn from_map(vars: HashMap<String, String>) -> Self {
        Self {
            vars,
            errors: Vec::new(),
        }
    }

    /// Sets a variable unless it is already set: a layer of defaults under the environment.
    pub fn default_var(&mut self, key: &str, value: impl Into<String>) {
        self.vars
            .entry(key.to_owned())
            .or_insert_with(|| value.into());
    }

    /// A variable's value, if set and not empty.
    pub fn optional(&self, key: &str) -> Option<String> {
        self.vars.get(key).filter(|v| !v.trim().is_empty()).cloned()
    }

    /// A string setting.
    pub fn string(&self, key: &str, default: &str) -> String {
        self.optional(key).unwrap_or_else(|| default.to_owned())
    }

    /// A setting parsed with `FromStr`; a value that does not parse is recorded as an error and
    /// the default stands in, so that the remaining settings are still checked.
    pub fn parse<T>(&mut self, key: &str, default: T) -> T
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match self.optional(key) {
            None => default,
            Some(raw) => match raw.trim().parse() {
                Ok(v) => v,
                Err(e) => {
                    self.fail(key, format!("{raw:?} is not valid: {e}"));
                    default
                }
            },
        }
    }

    /// A boolean setting: `true/false`, `1/0`, `yes/no`.
    pub fn flag(&mut self, key: &str, default: bool) -> bool {
        match self.optional(key).map(|v| v.trim().to_ascii_lowercase()) {
            None => default,
            Some(v) if ["true", "1", "yes"].contains(&v.as_str()) => true,
            Some(v) if ["false", "0", "no"].contains(&v.as_str()) => false,
            Some(v) => {
                self.fail(key, format!("{v:?} is not a boolean (true/false)"));
                default
            }
        }
    }

    /// A comma-separated list.
    pub fn list(&self, key: &str, default: &[&str]) -> Vec<String> {
        match self.optional(key) {
            None => default.iter().map(|s| (*s).to_owned()).collect(),
            Some(raw) => raw
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }

    /// A secret setting.
    pub fn secret(&self, key: &str, default: &str) -> Secret {
        Secret(self.string(key, default))
    }

    /// A URL setting that may carry a password.
    pub fn url(&mut self, key: &str, default: &str) -> SecretUrl {
        let value = self.string(key, default);
        if !value.contains("://") {
            self.fail(key, "is not a URL (scheme://…)".to_owned());
        }
        SecretUrl(value)
    }

    /// Records a problem found while validating settings together.
    pub fn fail(&mut self, key: &str, problem: String) {
        self.errors.push(SettingError {
            key: key.to_owned(),
            problem,
        });
    }

    /// Ends reading: every problem found, or none.
    pub fn finish(self) -> Result<(), ConfigError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ConfigError(self.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_map(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn defaults_apply_when_unset_or_empty() {
        let mut e = env(&[("EMPTY", " ")]);
        assert_eq!(e.string("EMPTY", "x"), "x");
        assert_eq!(e.parse::<u16>("PORT", 8080), 8080);
        assert!(e.flag("FLAG", true));
        e.finish().expect("no errors");
    }

    #[test]
    fn every_bad_setting_is_reported_at_once() {
        let mut e = env(&[("PORT", "eighty"), ("FLAG", "maybe"), ("DB", "localhost")]);
        let _ = e.parse::<u16>("PORT", 80);
        let _ = e.flag("FLAG", false);
        let _ = e.url("DB", "postgres://x");
        let err = e.finish().expect_err("three errors");
        assert_eq!(err.0.len(), 3);
        let text = err.to_string();
        assert!(
            text.contains("PORT") && text.contains("FLAG") && text.contains("DB"),
            "{text}"
        );
    }

    #[test]
    fn secrets_are_never_shown() {
        let e = env(&[("KEY", "hunter2")]);
        let s = e.secret("KEY", "");
        assert_eq!(s.expose(), "hunter2");
        assert!(!format!("{s:?} {s}").contains("hunter2"));
        let url = SecretUrl::new("postgres://kutse:hunter2@127.0.0.1:5432/db");
        assert_eq!(url.to_string(), "postgres://kutse:***@127.0.0.1:5432/db");
        assert!(!format!("{url:?}").contains("hunter2"));
        let plain = SecretUrl::new("amqp://127.0.0.1:5672/%2f");
        assert_eq!(plain.to_string(), "amqp://127.0.0.1:5672/%2f");
    }

    #[test]
    fn lists_are_comma_separated() {
        let e = env(&[("ALGS", "RS256, EdDSA,")]);
        assert_eq!(e.list("ALGS", &[]), vec!["RS256", "EdDSA"]);
        assert_eq!(e.list("NONE", &["a"]), vec!["a"]);
    }
}
