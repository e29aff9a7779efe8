//! `[[settings]]`: an organisation's own settings for a control another file defines — the
//! repositories `detect.pre_commit` reads, a stricter key age — without copying the control.
//! The given keys replace the control's; the result is checked by the control's check like
//! any `params`, and a changed setting is a new check version. A control set twice, a control
//! that does not exist or has no check, or a setting the check does not take is an error
//! naming the file and line.

use std::collections::BTreeMap;

use evident_core::Result;
use serde_json::Value;

use crate::catalog::model::{Control, Location};
use crate::catalog::parse::ParsedFile;
use crate::checks;

/// Applies every file's `[[settings]]` to the controls.
pub(crate) fn apply(parsed: &[ParsedFile], controls: &mut [Control]) -> Result<()> {
    let mut applied: BTreeMap<String, Location> = BTreeMap::new();
    for file in parsed {
        for raw in &file.settings {
            let id = raw.control.get_ref();
            let at = file.at(raw.control.span());
            if let Some(first) = applied.get(id) {
                return Err(file.error(
                    raw.control.span(),
                    format!("settings of `{id}` are given twice (first at {first})"),
                ));
            }
            let Some(control) = controls.iter_mut().find(|c| &c.id == id) else {
                return Err(file.error(
                    raw.control.span(),
                    format!("no control `{id}` to give settings to"),
                ));
            };
            let Some(def) = control.check.as_deref().and_then(checks::find) else {
                return Err(file.error(
                    raw.control.span(),
                    format!("`{id}` has no check, so it takes no settings"),
                ));
            };
            let given = serde_json::to_value(raw.params.get_ref())
                .map_err(|e| file.error(raw.params.span(), e.to_string()))?;
            let mut merged = control.params.clone();
            if let (Value::Object(into), Value::Object(from)) = (&mut merged, given) {
                into.extend(from);
            }
            control.params = (def.normalize)(&merged).map_err(|e| {
                file.error(
                    raw.params.span(),
                    format!("settings of `{id}` for `{}`: {e}", def.name),
                )
            })?;
            applied.insert(id.clone(), at);
        }
    }
    Ok(())
}
