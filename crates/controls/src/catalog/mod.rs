//! The control catalog: Evident's controls, each mapped to framework requirement ids, the
//! frameworks' requirement lists, and the dispositions of requirements no check covers.
//!
//! - `model`: what a loaded catalog holds ([`Catalog`], [`Control`], [`Framework`], …);
//! - `parse`: one TOML file with line numbers; `load`: putting the files together and
//!   validating them; `builtin`: the files shipped in the binary;
//! - `oscal`: NIST's OSCAL catalogs and profiles.

mod builtin;
mod load;
pub(crate) mod model;
pub mod oscal;
mod parse;
mod settings;

pub use builtin::{sources as builtin_sources, NIST_BASELINES};
pub use load::{build, data_dir_sources, load, DATA_DIR_CATALOG, IMPORTED_FRAMEWORKS};
pub use model::{Catalog, Control, Disposition, Framework, Implementation, Location, Requirement};
pub use parse::{catalog_error, Source};
