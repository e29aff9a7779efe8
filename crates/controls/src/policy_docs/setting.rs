//! A setting's value — one text, a list, or a table — and [`Settings`], every setting a
//! render may read by name, with the reason a known group of settings is absent (no policy
//! pack active, no data map applied) so that a template reading one says why.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A setting's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Setting {
    /// one value, inline
    Text(String),
    /// several values: a bulleted list on a line of its own, joined with commas inline
    List(Vec<String>),
    /// rows under column headings: a table, on a line of its own only
    Table {
        /// the headings
        columns: Vec<String>,
        /// the rows, each as long as `columns`
        rows: Vec<Vec<String>>,
    },
}

impl Setting {
    /// A text setting.
    pub fn text(value: impl ToString) -> Self {
        Setting::Text(value.to_string())
    }
}

/// The settings a render reads, by name (`tls.min_version`), in name order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// every setting there is
    pub values: BTreeMap<String, Setting>,
    /// why the settings under a prefix (`access.`) are absent
    #[serde(skip)]
    pub absent: BTreeMap<String, String>,
}

impl Settings {
    /// Sets `name`.
    pub fn set(&mut self, name: impl Into<String>, value: Setting) {
        self.values.insert(name.into(), value);
    }

    /// Records that the settings starting with `prefix` are absent, and why.
    pub fn absent(&mut self, prefix: &str, why: impl Into<String>) {
        self.absent.insert(prefix.to_string(), why.into());
    }

    /// The setting `name`.
    pub fn get(&self, name: &str) -> Option<&Setting> {
        self.values.get(name)
    }

    /// Why `name` is absent, when a known group of settings is.
    pub fn why_absent(&self, name: &str) -> Option<&str> {
        self.absent
            .iter()
            .find(|(prefix, _)| name.starts_with(prefix.as_str()))
            .map(|(_, why)| why.as_str())
    }
}
