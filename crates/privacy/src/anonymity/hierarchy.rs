//! Declared generalization hierarchies of categorical quasi-identifiers: a CSV file without
//! a header, one row per value, from the value up to the top
//! (`13053,1305*,130**,*`). Mondrian orders such a column's values so that values sharing an
//! ancestor sit together, and publishes each class's value as the lowest ancestor common to
//! all of its values.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::hashing::FastMap;
use super::table::Table;
use crate::csv_input;
use crate::error::{Error, Result};

/// A generalization hierarchy: each value's ancestors, level by level.
#[derive(Debug, Clone)]
pub struct Hierarchy {
    file: PathBuf,
    /// each value's ancestors, from the level just above it to the top
    ancestors: FastMap<String, Vec<String>>,
    /// how many values lie under each (level, ancestor); level 1 is just above the values
    leaves_under: FastMap<(usize, String), usize>,
}

impl Hierarchy {
    /// Reads a hierarchy file.
    pub fn read(path: &Path) -> Result<Hierarchy> {
        let file = File::open(path).map_err(|source| Error::Io {
            file: path.to_owned(),
            source,
        })?;
        Hierarchy::read_csv(file, path)
    }

    /// Reads a hierarchy from CSV rows without a header; `path` names it in messages.
    pub fn read_csv(reader: impl Read, path: &Path) -> Result<Hierarchy> {
        let mut csv = csv_input::reader(reader, false, false);
        let parse = |line: u64, message: String| Error::Parse {
            file: path.to_owned(),
            line,
            message,
        };
        let mut ancestors: FastMap<String, Vec<String>> = FastMap::default();
        let mut leaves_under: FastMap<(usize, String), usize> = FastMap::default();
        for record in csv.records() {
            let record = record.map_err(|e| csv_input::problem(path, e))?;
            let line = record.position().map_or(0, |p| p.line());
            let mut row = record.iter().map(str::to_owned);
            let (Some(leaf), ancestors_of_leaf) = (row.next(), row.collect::<Vec<_>>()) else {
                continue;
            };
            if ancestors_of_leaf.is_empty() {
                return Err(parse(
                    line,
                    "a row needs a value and at least one ancestor".into(),
                ));
            }
            for (level, ancestor) in ancestors_of_leaf.iter().enumerate() {
                *leaves_under
                    .entry((level + 1, ancestor.clone()))
                    .or_insert(0) += 1;
            }
            if ancestors.insert(leaf.clone(), ancestors_of_leaf).is_some() {
                return Err(parse(line, format!("the value `{leaf}` appears twice")));
            }
        }
        if ancestors.is_empty() {
            return Err(Error::Empty {
                file: path.to_owned(),
            });
        }
        Ok(Hierarchy {
            file: path.to_owned(),
            ancestors,
            leaves_under,
        })
    }

    /// The values the hierarchy declares.
    pub fn leaves(&self) -> usize {
        self.ancestors.len()
    }

    /// Checks that every value of column `index` is declared; names the first that is not.
    pub fn check_covers(&self, table: &Table, index: usize) -> Result<()> {
        let column = table.column(index);
        for (row, &code) in column.codes().iter().enumerate() {
            let value = &column.dictionary()[code as usize];
            if !self.ancestors.contains_key(value) {
                return Err(Error::NotInHierarchy {
                    file: table.file().to_owned(),
                    line: table.line(row),
                    column: column.name().to_owned(),
                    value: value.clone(),
                    hierarchy: self.file.clone(),
                });
            }
        }
        Ok(())
    }

    /// A key that sorts values sharing an ancestor next to each other: the ancestors from
    /// the top down, then the value.
    pub fn order_key<'a>(&'a self, value: &'a str) -> Vec<&'a str> {
        let mut key: Vec<&str> = self
            .ancestors
            .get(value)
            .map(|a| a.iter().rev().map(String::as_str).collect())
            .unwrap_or_default();
        key.push(value);
        key
    }

    /// The lowest ancestor common to all `values` (the value itself when there is one), and
    /// how many declared values lie under it; `*` and all of them when even the top differs.
    pub fn common(&self, values: &[&str]) -> (String, usize) {
        let Some(first) = values.first() else {
            return ("*".into(), self.leaves());
        };
        if values.iter().all(|v| v == first) {
            return ((*first).to_owned(), 1);
        }
        let levels = self.ancestors.get(*first).map_or(0, Vec::len);
        for level in 0..levels {
            let ancestor = |v: &str| self.ancestors.get(v).and_then(|a| a.get(level));
            let top = ancestor(first);
            if values.iter().all(|v| ancestor(v) == top) {
                if let Some(label) = top {
                    let under = self
                        .leaves_under
                        .get(&(level + 1, label.clone()))
                        .copied()
                        .unwrap_or(values.len());
                    return (label.clone(), under);
                }
            }
        }
        ("*".into(), self.leaves())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZIPS: &str =
        "13053,1305*,130**,*\n13058,1305*,130**,*\n13068,1306*,130**,*\n14850,1485*,148**,*\n";

    fn zips() -> Hierarchy {
        Hierarchy::read_csv(ZIPS.as_bytes(), Path::new("zip.csv")).unwrap()
    }

    #[test]
    fn the_lowest_common_ancestor_and_its_size() {
        let h = zips();
        assert_eq!(h.leaves(), 4);
        assert_eq!(h.common(&["13053"]), ("13053".into(), 1));
        assert_eq!(h.common(&["13053", "13058"]), ("1305*".into(), 2));
        assert_eq!(h.common(&["13053", "13068"]), ("130**".into(), 3));
        assert_eq!(h.common(&["13053", "14850"]), ("*".into(), 4));
        assert!(h.order_key("13058") < h.order_key("13068"));
    }

    #[test]
    fn bad_hierarchies_are_refused() {
        let twice = Hierarchy::read_csv("a,x\na,y\n".as_bytes(), Path::new("h.csv"));
        assert!(twice
            .unwrap_err()
            .to_string()
            .contains("line 2: the value `a` appears twice"));
        let ragged = Hierarchy::read_csv("a,x,*\nb,*\n".as_bytes(), Path::new("h.csv"));
        assert!(matches!(ragged, Err(Error::Ragged { line: 2, .. })));
        let alone = Hierarchy::read_csv("a\nb\n".as_bytes(), Path::new("h.csv"));
        assert!(alone.is_err());
    }

    #[test]
    fn every_value_of_the_column_must_be_declared() {
        let t = Table::read_csv("zip\n13053\n99999\n".as_bytes(), Path::new("t.csv")).unwrap();
        let err = zips().check_covers(&t, 0).unwrap_err().to_string();
        assert_eq!(
            err,
            "t.csv, line 3, column `zip`: `99999` is not in the hierarchy zip.csv"
        );
    }
}
