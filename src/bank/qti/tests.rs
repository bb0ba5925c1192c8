//! Export and import in memory: the sample bank comes back whole, and a package's problems
//! are refused at their lines.

use std::path::Path;

use super::*;
use crate::bank::hash::{item_hash, vignette_hash};
use crate::bank::{parse, Bank};

fn sample() -> Bank {
    crate::bank::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("item-bank")).unwrap()
}

fn package(files: Vec<(String, String)>) -> PackageFiles {
    files
        .into_iter()
        .map(|(p, t)| (p, t.into_bytes()))
        .collect()
}

#[test]
fn the_sample_bank_comes_back_with_every_content_hash() {
    let bank = sample();
    let files = package(export(&bank).unwrap());
    assert_eq!(files.len(), 1 + bank.items.len() + bank.vignettes.len());
    let back = import(&files, &Mapping::default(), &bank.taxonomy).unwrap();
    assert_eq!(back.items.len(), bank.items.len());
    assert_eq!(back.vignettes.len(), bank.vignettes.len());
    for f in &back.items {
        let i = parse::item(&f.path, &f.text).unwrap();
        let original = bank.item(&i.id).unwrap();
        assert_eq!(item_hash(&i), item_hash(original), "{}", i.id);
        assert_eq!(i.enemies, original.enemies, "{}", i.id);
    }
    for f in &back.vignettes {
        let v = parse::vignette(&f.path, &f.text).unwrap();
        assert_eq!(
            vignette_hash(&v),
            vignette_hash(bank.vignette(&v.id).unwrap())
        );
    }
}

/// A one-item QTI 3.0 package whose item holds `body` (inside qti-item-body) after `decl`.
fn one_item(decl: &str, body: &str) -> PackageFiles {
    let manifest = r#"<manifest xmlns="http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1" identifier="m"><organizations/><resources>
<resource identifier="r" type="imsqti_item_xmlv3p0" href="items/a.xml"><metadata><lom xmlns="http://ltsc.ieee.org/xsd/LOM"><classification><taxonPath><source><string>imh-exam taxonomy</string></source><taxon><id>TF</id></taxon><taxon><id>attachment</id></taxon></taxonPath></classification></lom></metadata></resource>
</resources></manifest>"#;
    let item = format!(
        "<qti-assessment-item xmlns=\"http://www.imsglobal.org/xsd/imsqtiasi_v3p0\" identifier=\"A-1\" title=\"t\" time-dependent=\"false\">\n{decl}\n<qti-item-body>\n{body}\n</qti-item-body>\n</qti-assessment-item>\n"
    );
    package(vec![
        ("imsmanifest.xml".into(), manifest.into()),
        ("items/a.xml".into(), item),
    ])
}

const CHOICES: &str = r#"<qti-choice-interaction response-identifier="RESPONSE">
<qti-simple-choice identifier="A">One</qti-simple-choice><qti-simple-choice identifier="B">Two</qti-simple-choice>
<qti-simple-choice identifier="C">Three</qti-simple-choice><qti-simple-choice identifier="D">Four</qti-simple-choice>
</qti-choice-interaction>
<qti-rubric-block view="scorer" use="scoring" class="rationale"><qti-content-body><p>Why.</p></qti-content-body></qti-rubric-block>"#;

fn refusals(files: &PackageFiles) -> Vec<String> {
    let mapping = Mapping {
        levels: Some(crate::bank::Level::ALL.into_iter().collect()),
        ..Mapping::default()
    };
    import(files, &mapping, &sample().taxonomy)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn a_choice_item_imports_with_its_key() {
    let decl = r#"<qti-response-declaration identifier="RESPONSE" cardinality="single"><qti-correct-response><qti-value>D</qti-value></qti-correct-response></qti-response-declaration>"#;
    let files = one_item(decl, &format!("<p>Which?</p>\n{CHOICES}"));
    let mapping = Mapping {
        levels: Some([crate::bank::Level::III].into_iter().collect()),
        ..Mapping::default()
    };
    let back = import(&files, &mapping, &sample().taxonomy).unwrap();
    assert_eq!(
        back.items[0].text,
        "id: A-1\nversion: 1\nkind: mcq\ndomain: TF\narea: attachment\nlevels: III\nstatus: draft\n\n## Stem\nWhich?\n\n## Options\nA. One\nB. Two\nC. Three\nD. Four\n\n## Key\nD\n\n## Rationale\nWhy.\n"
    );
}

#[test]
fn no_correct_response_is_refused_never_guessed() {
    let decl = r#"<qti-response-declaration identifier="RESPONSE" cardinality="single"/>"#;
    assert_eq!(
        refusals(&one_item(decl, &format!("<p>Which?</p>\n{CHOICES}"))),
        vec!["items/a.xml:2: no correct response: the bank never guesses a key; give the response declaration a qti-correct-response"]
    );
}

#[test]
fn text_that_would_read_as_bank_syntax_is_refused() {
    let decl = r#"<qti-response-declaration identifier="RESPONSE" cardinality="single"><qti-correct-response><qti-value>A</qti-value></qti-correct-response></qti-response-declaration>"#;
    let refused = refusals(&one_item(
        decl,
        &format!("<p>Which?<br/>## Key</p>\n{CHOICES}"),
    ));
    assert_eq!(refused.len(), 1);
    assert!(
        refused[0].starts_with("items/a.xml:1: cannot be written as a bank file: "),
        "{refused:?}"
    );
}

#[test]
fn a_package_without_a_manifest_or_items_is_named() {
    assert_eq!(
        refusals(&PackageFiles::new()),
        vec!["imsmanifest.xml:1: missing: the package has no such file"]
    );
    let old = package(vec![(
        "imsmanifest.xml".into(),
        "<manifest identifier=\"m\">\n<resources><resource identifier=\"q\" type=\"imsqti_xmlv1p2\"/></resources></manifest>".into(),
    )]);
    assert_eq!(
        refusals(&old),
        vec!["imsmanifest.xml:2: resource \"q\" is QTI 1.x (imsqti_xmlv1p2): export the items as QTI 2.1 or 3.0"]
    );
}
