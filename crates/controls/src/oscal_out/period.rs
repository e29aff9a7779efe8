//! The controls part's door to the OSCAL documents: the component-definition of the catalog
//! in force, and assessment-results for a period read from the ledger's check runs.

use evident_core::event::format_time;
use evident_core::Result;
use serde_json::Value;

use super::component::component_definition;
use super::results::{assessment_results, AssessedRun, Assessment};
use crate::status::check_period;
use crate::Controls;

impl Controls<'_> {
    /// The OSCAL component-definition of the catalog in force, stamped `now_us`.
    pub fn oscal_component_definition(&self, now_us: i64) -> Result<Value> {
        let catalog = self.catalog()?;
        Ok(component_definition(
            &catalog,
            &format_time(now_us),
            env!("CARGO_PKG_VERSION"),
        ))
    }

    /// OSCAL assessment-results for the runs received in `from_us..=to_us` of the controls
    /// with a check (all of them, or those mapped to `framework`), stamped `now_us`.
    pub fn oscal_assessment_results(
        &self,
        framework: Option<&str>,
        from_us: i64,
        to_us: i64,
        now_us: i64,
    ) -> Result<Value> {
        check_period(from_us, to_us)?;
        let catalog = self.catalog()?;
        let framework = framework.map(|f| catalog.framework(f)).transpose()?;
        let controls: Vec<_> = catalog
            .controls
            .iter()
            .filter(|c| c.check.is_some())
            .filter(|c| framework.is_none_or(|f| c.frameworks.contains_key(&f.id)))
            .collect();
        let mut runs = Vec::new();
        for control in &controls {
            for item in self.history(&control.id, from_us, to_us)? {
                runs.push(AssessedRun {
                    control: control.id.clone(),
                    index: item.index,
                    time: item.time,
                    result: item.result,
                    reason: item.reason,
                });
            }
        }
        runs.sort_by_key(|r| r.index);
        let (from, to, now) = (
            format_time(from_us),
            format_time(to_us),
            format_time(now_us),
        );
        Ok(assessment_results(&Assessment {
            catalog: &catalog,
            controls,
            from: &from,
            to: &to,
            runs: &runs,
            origin: self.recorder.origin(),
            generated_at: &now,
            version: env!("CARGO_PKG_VERSION"),
            evidence_href: None,
        }))
    }
}
