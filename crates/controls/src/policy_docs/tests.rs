//! Unit tests of rendering: strict placeholders, escaping, determinism and drift.

use super::live::{from_catalog, PolicyInputs, RetentionRow};
use super::published::{changed_settings, render, sha256};
use super::setting::{Setting, Settings};
use super::shipped::{self, Source, TemplateFile, SHIPPED};
use super::template::{self, Block, Template};
use super::{diff, html, markdown};

fn file(name: &str, text: &str) -> TemplateFile {
    TemplateFile {
        template: Template {
            name: name.into(),
            origin: "local".into(),
            text: text.into(),
        },
        source: Source::Local,
    }
}

fn settings(pairs: &[(&str, Setting)]) -> Settings {
    let mut s = Settings::default();
    for (k, v) in pairs {
        s.set(*k, v.clone());
    }
    s
}

/// Every setting the shipped templates read, as a live engine with a pack and a map has them.
fn full() -> Settings {
    let catalog = crate::catalog::load(None).unwrap();
    let mut s = from_catalog(
        &catalog,
        &PolicyInputs {
            tls_versions: vec!["TLS 1.3".into(), "TLS 1.2".into()],
            data_map: Some((
                "sha256:abc".into(),
                vec![RetentionRow {
                    system: "app".into(),
                    table: "patients".into(),
                    retention: "6y".into(),
                    runs_from: "discharged_at".into(),
                    purpose: "treatment".into(),
                    lawful_basis: "legal_obligation".into(),
                }],
            )),
            data_map_problem: None,
        },
    );
    s.set("audit.log_origin", Setting::text("evident.example/log"));
    s.set(
        "keys.names",
        Setting::List(vec!["evidence".into(), "phi".into()]),
    );
    s.set("keys.provider", Setting::text("local"));
    s.set("access.policy_version", Setting::text("3"));
    s.set("access.policy_hash", Setting::text("sha256:0011"));
    s.set(
        "access.regulated_types",
        Setting::List(vec!["PatientRecord".into()]),
    );
    s.set(
        "access.break_glass_min_justification_chars",
        Setting::text("15"),
    );
    s.set(
        "access.role_names",
        Setting::List(vec!["admin".into(), "viewer".into()]),
    );
    s.set(
        "access.roles",
        Setting::Table {
            columns: vec!["role".into(), "also holds the permissions of".into()],
            rows: vec![
                vec!["admin".into(), "viewer".into()],
                vec!["viewer".into(), "-".into()],
            ],
        },
    );
    s
}

#[test]
fn every_shipped_template_renders_from_a_full_configuration() {
    let settings = full();
    for (name, _) in SHIPPED {
        let f = shipped::find(None, name).unwrap();
        let r = render(&f, &settings).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(r.markdown.starts_with("# "), "{name}");
        assert!(!r.markdown.contains("{{"), "{name}");
        assert!(r.html.starts_with("<!DOCTYPE html>"), "{name}");
        assert!(!r.settings.is_empty(), "{name}");
    }
    let enc = render(&shipped::find(None, "encryption").unwrap(), &settings).unwrap();
    assert!(enc.markdown.contains("accepts TLS 1.2 and above"));
    assert!(enc.markdown.contains("- TLS 1.3\n- TLS 1.2"));
    assert_eq!(enc.settings["tls.min_version"], Setting::text("1.2"));
    let access = render(&shipped::find(None, "access-control").unwrap(), &settings).unwrap();
    assert!(access.markdown.contains("| admin | viewer |"));
    assert!(access.html.contains("<td>admin</td><td>viewer</td>"));
    assert!(access.html.contains("<strong>evident.example/log</strong>"));
}

#[test]
fn a_missing_setting_names_the_template_the_line_and_the_setting() {
    let f = file(
        "mine",
        "# Title\n\nfine {{a.b}}\n\nTLS {{tls.min_versoin}} only\n",
    );
    let err = render(&f, &settings(&[("a.b", Setting::text("x"))]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("`mine`"), "{err}");
    assert!(err.contains("line 5"), "{err}");
    assert!(err.contains("`tls.min_versoin`"), "{err}");
    assert!(err.contains("nothing was rendered"), "{err}");
}

#[test]
fn every_faulty_line_is_named_at_once_and_a_known_absence_says_why() {
    let f = file(
        "two",
        "{{x}}\n{{y}} and {{ z \n{{Bad Name}}\n{{table}} inline\n{{access.roles}}\n",
    );
    let mut s = settings(&[
        ("x", Setting::text("1")),
        (
            "table",
            Setting::Table {
                columns: vec!["a".into()],
                rows: vec![],
            },
        ),
    ]);
    s.absent("access.", "no policy pack is active");
    let err = render(&f, &s).unwrap_err().to_string();
    for want in [
        "line 2: the setting `y` does not exist",
        "line 2: a `{{` is not closed",
        "line 3: `{{Bad Name}}` is not a setting name",
        "line 4: `table` is a table",
        "line 5: the setting `access.roles` does not exist: no policy pack is active",
    ] {
        assert!(err.contains(want), "{want} not in {err}");
    }
}

#[test]
fn values_are_escaped_in_html_and_markdown() {
    let f = file(
        "esc",
        "# Roles\n\nOwner: {{owner}}\n\n{{roles}}\n\n{{table}}\n",
    );
    let evil = "<script>alert('x')</script> & \"q\"";
    let s = settings(&[
        ("owner", Setting::text(evil)),
        ("roles", Setting::List(vec!["<b>admin</b>".into()])),
        (
            "table",
            Setting::Table {
                columns: vec!["<th>".into()],
                rows: vec![vec!["a|b".into()]],
            },
        ),
    ]);
    let r = render(&f, &s).unwrap();
    assert!(!r.html.contains("<script>"));
    assert!(!r.html.contains("<b>admin"));
    assert!(r
        .html
        .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"));
    assert!(r.html.contains("<li>&lt;b&gt;admin&lt;/b&gt;</li>"));
    assert!(r.html.contains("<th>&lt;th&gt;</th>"));
    assert!(!r.markdown.contains("<script>"));
    assert!(r.markdown.contains("\\<script\\>"));
    assert!(r.markdown.contains("| a\\|b |"));
    assert_eq!(html::escape("a<b"), "a&lt;b");
    assert_eq!(markdown::escape("*x*"), "\\*x\\*");
    assert_eq!(markdown::escape("created_at _x_"), "created_at \\_x\\_");
}

#[test]
fn the_same_settings_render_the_same_bytes_and_a_change_changes_the_hash() {
    let settings = full();
    let f = shipped::find(None, "encryption").unwrap();
    let a = render(&f, &settings).unwrap();
    let b = render(&f, &settings.clone()).unwrap();
    assert_eq!(a.markdown.as_bytes(), b.markdown.as_bytes());
    assert_eq!(a.html.as_bytes(), b.html.as_bytes());
    assert_eq!(a.sha256, sha256(a.markdown.as_bytes()));

    let mut stricter = settings.clone();
    stricter.set("tls.min_version", Setting::text("1.3"));
    let c = render(&f, &stricter).unwrap();
    assert_ne!(a.sha256, c.sha256);
    assert!(c.markdown.contains("accepts TLS 1.3 and above"));
    let published = serde_json::to_value(&a.settings).unwrap();
    let changed = changed_settings(&published, &c.settings);
    assert_eq!(changed.keys().collect::<Vec<_>>(), ["tls.min_version"]);
    let d = diff::lines(&a.markdown, &c.markdown).unwrap();
    let text = diff::unified(&d);
    assert!(text.contains("-The API accepts TLS 1.2"), "{text}");
    assert!(text.contains("+The API accepts TLS 1.3"), "{text}");
}

#[test]
fn a_catalog_setting_changes_the_rendered_document() {
    let dir = tempfile::tempdir().unwrap();
    let f = shipped::find(None, "encryption").unwrap();
    let inputs = PolicyInputs {
        tls_versions: vec!["TLS 1.3".into()],
        ..PolicyInputs::default()
    };
    let mut base = from_catalog(&crate::catalog::load(Some(dir.path())).unwrap(), &inputs);
    for (k, v) in full().values {
        if k.starts_with("keys.") || k == "audit.log_origin" {
            base.set(k, v);
        }
    }
    let before = render(&f, &base).unwrap();
    std::fs::create_dir_all(dir.path().join("controls")).unwrap();
    let control = crate::catalog::load(None)
        .unwrap()
        .controls
        .iter()
        .find(|c| c.check.as_deref() == Some("tls.protocols"))
        .unwrap()
        .id
        .clone();
    std::fs::write(
        dir.path().join("controls/tls.toml"),
        format!("[[settings]]\ncontrol = \"{control}\"\nparams = {{ min_version = \"1.3\" }}\n"),
    )
    .unwrap();
    let mut after_settings =
        from_catalog(&crate::catalog::load(Some(dir.path())).unwrap(), &inputs);
    for (k, v) in full().values {
        if k.starts_with("keys.") || k == "audit.log_origin" {
            after_settings.set(k, v);
        }
    }
    let after = render(&f, &after_settings).unwrap();
    assert_ne!(before.sha256, after.sha256);
    assert!(after.markdown.contains("TLS 1.3 and above"));
}

#[test]
fn data_retention_without_a_data_map_says_to_apply_one() {
    let catalog = crate::catalog::load(None).unwrap();
    let s = from_catalog(&catalog, &PolicyInputs::default());
    let err = render(&shipped::find(None, "data-retention").unwrap(), &s)
        .unwrap_err()
        .to_string();
    assert!(err.contains("`data-retention` (shipped)"), "{err}");
    assert!(err.contains("`retention.data_map`"), "{err}");
    assert!(err.contains("evident privacy map apply"), "{err}");
}

#[test]
fn a_local_template_replaces_the_shipped_one_and_adds_documents() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("policy-docs")).unwrap();
    std::fs::write(dir.path().join("policy-docs/encryption.md"), "# Ours\n").unwrap();
    std::fs::write(dir.path().join("policy-docs/vendor-risk.md"), "# Vendors\n").unwrap();
    std::fs::write(dir.path().join("policy-docs/Not Valid.md"), "# x\n").unwrap();
    let all = shipped::all(Some(dir.path())).unwrap();
    assert_eq!(all.len(), 7);
    let enc = all
        .iter()
        .find(|t| t.template.name == "encryption")
        .unwrap();
    assert_eq!(enc.source, Source::Local);
    assert_eq!(all[6].template.name, "vendor-risk");
    assert!(shipped::find(Some(dir.path()), "../etc").is_err());
    assert!(shipped::find(None, "nope").is_err());
}

#[test]
fn the_template_shape_is_read_into_blocks() {
    let f = file(
        "shape",
        "{# a comment #}\n# T\n\nline one\nline {{v}}\n\n- a\n- {{v}}\n\n{{list}}\n",
    );
    let s = settings(&[("v", Setting::text("two")), ("list", Setting::List(vec![]))]);
    let doc = template::render(&f.template, &s).unwrap();
    assert_eq!(doc.title, "T");
    assert_eq!(doc.blocks.len(), 4);
    assert!(matches!(&doc.blocks[3], Block::List(items) if items.len() == 1));
    let md = markdown::write(&doc);
    assert_eq!(md, "# T\n\nline one\nline two\n\n- a\n- two\n\n- none\n");
}
