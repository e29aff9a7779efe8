//! One module per part of the engine, each holding its verbs' command-line arguments (and
//! help) next to their implementation. Where each verb lives:
//!
//! | verb | module |
//! | --- | --- |
//! | `init` | [`init`] |
//! | `serve` | [`serve`] |
//! | `log append`, `tail`, `query`, `show`, `verify`, `prove`, `vkey`, `checkpoint`, `erase` | [`log`] |
//! | `verify` (offline, for auditors) | [`verify`] |
//! | `apikey create`, `list`, `revoke` | [`apikey`] |
//! | `keys …`, `encrypt`, `decrypt` | [`keys`] |
//! | `tokenize`, `detokenize` | [`tokens`] |
//! | `backup`, `backup test`, `restore` | [`backup`] |
//! | `policy apply`, `show`, `history`, `rollback`, `test` | [`policy`] |
//! | `policy-doc list`, `render`, `publish`, `history`, `show`, `diff`, `settings` | [`policy_doc`] |
//! | `access evaluate`, `break-glass`, `review` | [`access`] |
//! | `controls list`, `check`, `status`, `history`, `coverage`, `import`, `except`, `exceptions`, `diff` | [`controls`] |
//! | `controls oscal component`, `results` | [`oscal`] |
//! | `evidence add`, `list`, `show`, `get`, `ingest`, `bundle`, `sample` | [`evidence`] (one module each) |
//! | `scan`, `redact`, `hook`, `lsp` | [`detect`] (one module each) |
//! | `anonymity check`, `safe-harbor` | [`anonymity`] |
//! | `consent grant`, `withdraw`, `show`, `history`, `import` | [`consent`] |
//! | `dsr open`, `verify-identity`, `approve`, `deny`, `extend`, `run`, `status`, `list` | [`dsr`] |
//! | `retention plan`, `run` | [`retention`] |
//! | `privacy map check`, `show`, `apply`, `history`, `scan` | [`privacy`] |
//! | `pseudonymize` | [`pseudonymize`] |
//! | `risk add`, `update`, `close`, `list`, `show`, `export`, `report` | [`risk`] |
//! | `incident open`, `classify`, `update`, `notify`, `close`, `list`, `show`, `status` | [`incident`] |
//! | `demo` | [`demo`] |
//! | `bench crypto`, `access`, `ledger`, `detect`, `controls`, `pseudonymize` | [`bench`] |

pub mod access;
pub mod anonymity;
pub mod apikey;
pub mod backup;
pub mod bench;
pub mod consent;
pub mod controls;
pub mod demo;
pub mod detect;
pub mod dsr;
pub mod evidence;
pub mod incident;
pub mod init;
pub mod keys;
pub mod log;
pub mod oscal;
pub mod policy;
pub mod policy_doc;
pub mod privacy;
pub mod pseudonymize;
pub mod retention;
pub mod risk;
pub mod serve;
pub mod tokens;
pub mod verify;
