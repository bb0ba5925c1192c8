//! The bulk writer's pure parts on small cases: a part's chain, and the coding of its responses.

use super::*;
use crate::bank::{Level, VignetteKind};
use crate::exam::form::Presented;

fn save(item: &str, answer: &str, seq: u64, at_ms: i64) -> Save {
    Save {
        item_id: item.into(),
        answer: answer.into(),
        seq,
        at_ms,
    }
}

fn part_two(saves: Vec<Save>) -> TakenPart {
    let presented = |id: &str, items: &[&str]| Presented {
        vignette_id: id.into(),
        version: 1,
        kind: VignetteKind::Clinical,
        items: items.iter().map(|i| (i.to_string(), 2)).collect(),
    };
    TakenPart {
        part: 2,
        form: Form {
            seed: 7,
            blueprint: "level-iii".into(),
            level: Level::III,
            part_one: Vec::new(),
            part_two: vec![
                presented("V1", &["V1-Q1", "V1-Q2"]),
                presented("V2", &["V2-Q1"]),
            ],
        },
        started_at: 1_000,
        saves,
        submitted_at: 9_000,
    }
}

#[test]
fn a_linked_part_replays_as_the_save_queue_would_have_stored_it() {
    let p = part_two(vec![
        save("@choice", "V1", 1, 2_000),
        save("V1-Q1", "first", 2, 3_000),
        // A retry of sequence number 2: not stored.
        save("V1-Q1", "first", 2, 3_500),
        // Arrived with an earlier clock reading: stored at the time of the save before.
        save("V1-Q1", "second", 3, 2_500),
    ]);
    let linked = link(41, &p);
    assert_eq!(linked.len, 3);
    let times: Vec<i64> = linked.events.iter().map(|e| e.save.at_ms).collect();
    assert_eq!(times, [2_000, 3_000, 3_000]);
    let replayed = Chain::replay(&chain_key(41, 2), &linked.events).unwrap();
    assert_eq!(replayed.head, linked.head);
    assert_eq!(linked.answers["V1-Q1"], "second");
}

#[test]
fn the_chosen_vignettes_items_are_coded_blank_ones_too() {
    let p = part_two(vec![
        save("@choice", "V1", 1, 2_000),
        save("V1-Q1", "  my answer  ", 2, 3_000),
        save("V2-Q1", "not chosen", 3, 4_000),
    ]);
    let linked = link(41, &p);
    let coded = coded(5, &p, &linked.answers);
    let got: Vec<(&str, &str)> = coded.iter().map(|r| (r.item_id, r.body)).collect();
    assert_eq!(got, [("V1-Q1", "my answer"), ("V1-Q2", "")]);
    assert!(coded
        .iter()
        .all(|r| r.attempt_id == 5 && r.item_version == 2));
}
