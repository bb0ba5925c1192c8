//! `imh-exam bank export-qti` and `bank import-qti` end to end with the built binary: the
//! sample bank's round trip keeps every content hash, the export validates against the QTI 3.0
//! schemas (tests/fixtures/qti/xsd, with xmllint), the QTI 3.0 and 2.1 sample packages
//! (tests/fixtures/qti, zipped here) import as exact bank files, and every refusal is named.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use imh_exam::bank::{self, hash};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(rel: &str) -> PathBuf {
    repo().join("tests/fixtures/qti").join(rel)
}

fn bin(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imh-exam"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr_lines(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .map(str::to_string)
        .collect()
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "{}{}",
        stdout(o),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Zips the fixture folder `src` into `out`, paths relative to it.
fn zip_folder(src: &Path, out: &Path) {
    fn add(zip: &mut zip::ZipWriter<std::fs::File>, root: &Path, dir: &Path) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                add(zip, root, &p);
            } else if p.file_name().unwrap() != "mapping.toml" {
                let name = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .replace('\\', "/");
                zip.start_file(name, zip::write::SimpleFileOptions::default())
                    .unwrap();
                zip.write_all(&std::fs::read(&p).unwrap()).unwrap();
            }
        }
    }
    let mut zip = zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    add(&mut zip, src, src);
    zip.finish().unwrap();
}

/// A bank folder under `tmp` with the sample bank's bank.toml, taxonomy and blueprints, and
/// no items or vignettes yet.
fn empty_bank(tmp: &Path) -> PathBuf {
    let dir = tmp.join("bank");
    std::fs::create_dir_all(dir.join("blueprints")).unwrap();
    for f in ["bank.toml", "taxonomy.toml"] {
        std::fs::copy(repo().join("item-bank").join(f), dir.join(f)).unwrap();
    }
    for e in std::fs::read_dir(repo().join("item-bank/blueprints")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.join("blueprints").join(p.file_name().unwrap())).unwrap();
    }
    dir
}

/// Every file under `dir`, relative paths sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for sub in ["items", "vignettes"] {
        if let Ok(rd) = std::fs::read_dir(dir.join(sub)) {
            for e in rd {
                out.push(format!(
                    "{sub}/{}",
                    e.unwrap().file_name().to_str().unwrap()
                ));
            }
        }
    }
    out.sort();
    out
}

fn export_sample(tmp: &Path) -> PathBuf {
    let zip = tmp.join("bank-qti.zip");
    let o = bin(
        &["bank", "export-qti", "item-bank", zip.to_str().unwrap()],
        &repo(),
    );
    ok(&o);
    assert!(
        stdout(&o).starts_with("bank export-qti: wrote "),
        "{}",
        stdout(&o)
    );
    zip
}

#[test]
fn the_sample_banks_round_trip_keeps_every_content_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let zip = export_sample(tmp.path());
    let dir = empty_bank(tmp.path());
    let o = bin(
        &[
            "bank",
            "import-qti",
            zip.to_str().unwrap(),
            "--into",
            dir.to_str().unwrap(),
        ],
        tmp.path(),
    );
    ok(&o);

    let before = bank::load(&repo().join("item-bank")).unwrap();
    let after = bank::load(&dir).unwrap_or_else(|e| panic!("the imported bank checks: {e:?}"));
    assert_eq!(after.items.len(), before.items.len());
    assert_eq!(after.vignettes.len(), before.vignettes.len());
    for i in &before.items {
        let j = after
            .item(&i.id)
            .unwrap_or_else(|| panic!("{} came back", i.id));
        assert_eq!(hash::item_hash(j), hash::item_hash(i), "{}", i.id);
        assert_eq!(
            (j.version, &j.levels, j.status, &j.enemies, &j.vignette),
            (i.version, &i.levels, i.status, &i.enemies, &i.vignette),
            "{}",
            i.id
        );
    }
    for v in &before.vignettes {
        let w = after.vignette(&v.id).unwrap();
        assert_eq!(hash::vignette_hash(w), hash::vignette_hash(v), "{}", v.id);
        assert_eq!(
            (w.version, &w.levels, w.status),
            (v.version, &v.levels, v.status)
        );
    }
    ok(&bin(&["bank", "check", dir.to_str().unwrap()], tmp.path()));

    // Again: every file is already there as it would be written; nothing changes.
    let again = bin(
        &[
            "bank",
            "import-qti",
            zip.to_str().unwrap(),
            "--into",
            dir.to_str().unwrap(),
        ],
        tmp.path(),
    );
    ok(&again);
    let n = before.items.len() + before.vignettes.len();
    assert!(
        stdout(&again).contains(&format!(": 0 written, {n} already there unchanged")),
        "{}",
        stdout(&again)
    );
}

fn xmllint(schema: &Path, files: &[PathBuf]) -> Output {
    Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(schema)
        .args(files)
        .output()
        .expect("xmllint (Debian's libxml2-utils; scripts/test installs it) validates the export")
}

#[test]
fn the_export_validates_against_the_qti_3_schemas() {
    let tmp = tempfile::tempdir().unwrap();
    let zip = export_sample(tmp.path());
    let out = tmp.path().join("unzipped");
    zip::ZipArchive::new(std::fs::File::open(&zip).unwrap())
        .unwrap()
        .extract(&out)
        .unwrap();
    let list = |sub: &str| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(out.join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    };
    let mut content = list("items");
    let before = bank::load(&repo().join("item-bank")).unwrap();
    assert_eq!(content.len(), before.items.len());
    content.extend(list("stimuli"));
    let asi = fixture("xsd/qti-asi-v3p0-subset.xsd");
    let o = xmllint(&asi, &content);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = xmllint(
        &fixture("xsd/qti-cp-v3p0-subset.xsd"),
        &[out.join("imsmanifest.xml")],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // The schemas do refuse: an item without its required title, a manifest whose item
    // depends on a resource it does not hold.
    let item = out.join("items/TF-0001.xml");
    let text = std::fs::read_to_string(&item).unwrap();
    std::fs::write(&item, text.replacen(" title=\"TF-0001\"", "", 1)).unwrap();
    let o = xmllint(&asi, std::slice::from_ref(&item));
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("The attribute 'title' is required"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let manifest = out.join("imsmanifest.xml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replacen("identifierref=\"stimulus-", "identifierref=\"gone-", 1),
    )
    .unwrap();
    assert!(
        !xmllint(&fixture("xsd/qti-cp-v3p0-subset.xsd"), &[manifest])
            .status
            .success()
    );
}

#[test]
fn export_never_overwrites_and_refuses_a_broken_bank() {
    let tmp = tempfile::tempdir().unwrap();
    let zip = tmp.path().join("out.zip");
    std::fs::write(&zip, "keep me").unwrap();
    let o = bin(
        &["bank", "export-qti", "item-bank", zip.to_str().unwrap()],
        &repo(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr_lines(&o)[0].starts_with(&format!("{}:1: cannot write: ", zip.display())));
    assert_eq!(std::fs::read_to_string(&zip).unwrap(), "keep me");

    let dir = empty_bank(tmp.path());
    std::fs::create_dir_all(dir.join("items")).unwrap();
    std::fs::write(dir.join("items/TF-0001.md"), "id: TF-0001\n").unwrap();
    let out = tmp.path().join("new.zip");
    let o = bin(
        &["bank", "export-qti", "bank", out.to_str().unwrap()],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr_lines(&o)
        .contains(&"bank/items/TF-0001.md:1: missing header field `version`".to_string()));
    assert!(!out.exists());
}

fn import(package: &str, mapping: Option<&str>) -> (tempfile::TempDir, PathBuf, Output) {
    let tmp = tempfile::tempdir().unwrap();
    let zip = tmp.path().join("package.zip");
    zip_folder(&fixture(package), &zip);
    let dir = empty_bank(tmp.path());
    let mut args = vec![
        "bank".to_string(),
        "import-qti".into(),
        "package.zip".into(),
        "--into".into(),
        "bank".into(),
    ];
    if let Some(m) = mapping {
        args.extend(["--mapping".into(), fixture(m).to_str().unwrap().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = bin(&args, tmp.path());
    (tmp, dir, o)
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap()
}

#[test]
fn a_qti_3_package_imports_with_its_mapping() {
    let (_tmp, dir, o) = import("v3", Some("v3/mapping.toml"));
    ok(&o);
    assert_eq!(
        stdout(&o),
        "bank import-qti: 3 item(s) and 1 vignette(s) from package.zip: 4 written, 0 already there unchanged\nCheck the bank next: imh-exam bank check bank\n"
    );
    assert_eq!(
        files_under(&dir),
        vec![
            "items/CHOICE-1.md",
            "items/ESSAY-1.md",
            "items/EXT-OBS-2.md",
            "vignettes/HOME-VISIT.md"
        ]
    );
    assert_eq!(
        read(&dir, "vignettes/HOME-VISIT.md"),
        "id: HOME-VISIT\nversion: 1\nkind: clinical\ntitle: A first home visit with Rosa and Mateo\nlevels: III, IV-Clinical\nstatus: draft\n\n## Text\nYou visit Rosa, 24, and her three-month-old son Mateo at home. Mateo cries when Rosa puts him down.\n\nRosa says, \"He only wants me.\"\n"
    );
    // The key is the choice the package marks correct, whatever its identifier and place.
    assert_eq!(
        read(&dir, "items/CHOICE-1.md"),
        "id: CHOICE-1\nversion: 3\nkind: mcq\ndomain: TF\narea: attachment\nlevels: III, IV-Clinical\nstatus: draft\nvignette: HOME-VISIT\n\n## Stem\nWhat does Mateo's crying most likely show?\n\n## Options\nA. A feeding problem\nB. A difficult temperament\nC. A bid to stay close to his attachment figure\nD. Overstimulation\n\n## Key\nC\n\n## Rationale\nC: crying on being put down keeps the caregiver near.\n\nA, B and D do not fit a cry that stops when he is held.\n"
    );
    assert_eq!(
        read(&dir, "items/ESSAY-1.md"),
        "id: ESSAY-1\nversion: 1\nkind: open\ndomain: REF\narea: emotional-response\nlevels: III, IV-Clinical\nstatus: draft\nvignette: HOME-VISIT\nmax-score: 2\n\n## Prompt\nWhat do you feel when Rosa says \"He only wants me\"?\n\n## Rubric\n\n### 0\nDescriptor: Names no feeling.\nAnchor: She should put him down more.\n\n### 1\nDescriptor: Names a feeling.\nAnchor: I felt worried.\nAnchor: I felt a little shut out.\n\n### 2\nDescriptor: Names a feeling and links it to Rosa's experience.\nAnchor: I felt shut out,\nas Rosa may feel with others.\n"
    );
    // An identifier that is not a bank id is renamed by [ids]; the feedback is the rationale.
    let obs = read(&dir, "items/EXT-OBS-2.md");
    assert!(
        obs.starts_with("id: EXT-OBS-2\nversion: 1\nkind: mcq\ndomain: DSS\narea: observation\n"),
        "{obs}"
    );
    assert!(
        obs.ends_with("## Key\nA\n\n## Rationale\nWatching first lets the baby lead.\n"),
        "{obs}"
    );
}

#[test]
fn a_qti_2_1_package_imports_its_shared_passage_once() {
    let (_tmp, dir, o) = import("v21", Some("v21/mapping.toml"));
    ok(&o);
    assert_eq!(
        files_under(&dir),
        vec!["items/Q1.md", "items/Q2.md", "vignettes/SUPERVISION.md"]
    );
    assert_eq!(
        read(&dir, "vignettes/SUPERVISION.md"),
        "id: SUPERVISION\nversion: 1\nkind: supervisory\ntitle: A supervisor's week\nlevels: IV-Clinical\nstatus: pretest\n\n## Text\nLena supervises three home visitors.\n\nThis week one of them, Sam, arrives late and says little.\n"
    );
    assert_eq!(
        read(&dir, "items/Q1.md"),
        "id: Q1\nversion: 1\nkind: mcq\ndomain: REF\narea: parallel-process\nlevels: IV-Clinical\nstatus: pretest\nvignette: SUPERVISION\n\n## Stem\nWhat might Sam's silence mirror?\n\n## Options\nA. Nothing: he is tired\nB. A family's withdrawal from him\nC. A scheduling problem\nD. Lena's own lateness\n\n## Key\nB\n\n## Rationale\nB: a supervisee can bring a family's way of relating into supervision.\n"
    );
    assert_eq!(
        read(&dir, "items/Q2.md"),
        "id: Q2\nversion: 1\nkind: open\ndomain: REF\narea: parallel-process\nlevels: IV-Clinical\nstatus: pretest\nvignette: SUPERVISION\nmax-score: 1\n\n## Prompt\nHow would you open your next meeting with Sam?\n\n## Rubric\n\n### 0\nDescriptor: Corrects Sam.\nAnchor: Tell him to be on time.\n\n### 1\nDescriptor: Wonders with Sam.\nAnchor: I would ask how the week has been for him.\n"
    );
}

/// The refusal lines of a failed import, the closing line checked and left out.
fn refusals(o: &Output) -> Vec<String> {
    assert_eq!(o.status.code(), Some(1), "{}", stdout(o));
    let mut lines = stderr_lines(o);
    let last = lines.pop().unwrap();
    assert_eq!(
        last,
        format!(
            "bank import-qti: {} refusal(s) in package.zip; nothing was written",
            lines.len()
        )
    );
    lines
}

#[test]
fn every_refusal_of_a_qti_3_package_is_named_and_nothing_is_written() {
    let (_tmp, dir, o) = import("refusals-v3", Some("refusals-v3/mapping.toml"));
    let mapping = fixture("refusals-v3/mapping.toml");
    assert_eq!(
        refusals(&o),
        vec![
            "imsmanifest.xml:206: item items/unmapped.xml: classification \"Theoretical Foundations / Temperament\" is not mapped to a domain and area: add \"Theoretical Foundations / Temperament\" = \"DOMAIN/area\" under [areas] in the mapping file ".to_string() + mapping.to_str().unwrap(),
            "items/broken.xml:4: not well-formed XML: expected 'qti-item-body' tag, not 'qti-assessment-item' at 4:1".to_string(),
            "items/essay-gap.xml:8: the rubric's score point 1 is missing: a bank rubric has each of 0..2 once".to_string(),
            "items/essay-no-rubric.xml:7: an extended-text item needs a rubric: the bank keeps a descriptor and an anchor answer for every score point; give it a qti-rubric-block view=\"scorer\" of <div class=\"score-point\"> (docs/qti.md)".to_string(),
            "items/hotspot.xml:9: <qti-hotspot-interaction> cannot be represented: the bank holds single-answer choice items and extended-text items only".to_string(),
            "items/image.xml:8: <img> cannot be represented: bank items and vignettes are plain text (paragraphs and line breaks)".to_string(),
            "items/key-not-a-choice.xml:4: the correct response \"E\" is not one of the choices".to_string(),
            "items/match.xml:7: <qti-match-interaction> cannot be represented: the bank holds single-answer choice items and extended-text items only".to_string(),
            "items/missing-stimulus.xml:7: the stimulus \"../stimuli/gone.xml\" it refers to is not in the package (stimuli/gone.xml)".to_string(),
            "items/multiple-response.xml:9: a multiple-response choice interaction (max-choices=\"2\"): a bank choice item has exactly one key".to_string(),
            "items/no-key.xml:4: no correct response: the bank never guesses a key; give the response declaration a qti-correct-response".to_string(),
            "items/no-rationale.xml:7: no rationale: the bank keeps one with every choice item; give it a qti-rubric-block view=\"scorer\" class=\"rationale\", or feedback".to_string(),
            "items/order.xml:7: <qti-order-interaction> cannot be represented: the bank holds single-answer choice items and extended-text items only".to_string(),
            "items/three-choices.xml:9: 3 choices: a bank choice item has exactly four (A-D)".to_string(),
            "items/two-interactions.xml:15: 2 interactions in one item: a bank item has one".to_string(),
        ]
    );
    assert!(files_under(&dir).is_empty(), "nothing was written");
}

#[test]
fn every_refusal_of_a_qti_2_1_package_is_named_in_its_own_spelling() {
    let (_tmp, dir, o) = import("refusals-v21", None);
    assert_eq!(
        refusals(&o),
        vec![
            "items/any-number.xml:9: a multiple-response choice interaction (maxChoices=\"0\"): a bank choice item has exactly one key",
            "items/hottext.xml:8: <hottextInteraction> cannot be represented: the bank holds single-answer choice items and extended-text items only",
            "items/no-key.xml:4: no correct response: the bank never guesses a key; give the response declaration a qti-correct-response",
        ]
    );
    assert!(files_under(&dir).is_empty());
}

#[test]
fn without_a_mapping_the_message_names_the_key_to_add() {
    let (_tmp, dir, o) = import("v3", None);
    assert_eq!(
        refusals(&o),
        vec![
            "imsmanifest.xml:12: stimulus stimuli/home-visit.xml: the stimulus's vignette kind is not known: map its learningResourceType \"case study\" under [kinds] in a mapping file (given with --mapping)",
            "imsmanifest.xml:28: item items/choice-1.xml: classification \"Theoretical Foundations / Attachment\" is not mapped to a domain and area: add \"Theoretical Foundations / Attachment\" = \"DOMAIN/area\" under [areas] in a mapping file (given with --mapping)",
            "imsmanifest.xml:39: item items/essay-1.xml: keyword \"reflection: emotional response\" is not mapped to a domain and area: add \"reflection: emotional response\" = \"DOMAIN/area\" under [areas] in a mapping file (given with --mapping)",
            "imsmanifest.xml:48: item items/choice-2.xml: identifier \"obs_2\" cannot be a bank id (capital letters, digits and -): add \"obs_2\" = \"NEW-ID\" under [ids] in a mapping file (given with --mapping)",
        ]
    );
    assert!(files_under(&dir).is_empty());
}

#[test]
fn an_existing_file_with_other_content_is_never_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let zip = tmp.path().join("package.zip");
    zip_folder(&fixture("v3"), &zip);
    let dir = empty_bank(tmp.path());
    std::fs::create_dir_all(dir.join("items")).unwrap();
    std::fs::write(dir.join("items/CHOICE-1.md"), "mine\n").unwrap();
    let mapping = fixture("v3/mapping.toml");
    let o = bin(
        &[
            "bank",
            "import-qti",
            "package.zip",
            "--into",
            "bank",
            "--mapping",
            mapping.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr_lines(&o),
        vec![
            "bank/items/CHOICE-1.md:1: already exists with other content: it was not overwritten (move it away, or import into another folder)",
            "bank import-qti: nothing was written",
        ]
    );
    assert_eq!(read(&dir, "items/CHOICE-1.md"), "mine\n");
    assert_eq!(files_under(&dir), vec!["items/CHOICE-1.md"]);
}

#[test]
fn a_folder_without_a_taxonomy_and_a_file_that_is_no_zip_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("not.zip"), "hello").unwrap();
    let o = bin(
        &["bank", "import-qti", "not.zip", "--into", "."],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr_lines(&o)[0].starts_with("./taxonomy.toml:1: cannot read ("),
        "{:?}",
        stderr_lines(&o)
    );
    empty_bank(tmp.path());
    let o = bin(
        &["bank", "import-qti", "not.zip", "--into", "bank"],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr_lines(&o)[0].starts_with("not.zip:1: not a zip archive: "),
        "{:?}",
        stderr_lines(&o)
    );
}
