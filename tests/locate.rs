//! `kuroko locate`: matches with scores, the best miss, an annotated copy, clear errors.

use crate::support::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vision");

fn locate(args: &[&str]) -> Ran {
    Ran::from(kuroko().arg("locate").args(args).output().unwrap())
}

#[test]
fn locate_prints_matches_and_annotates() {
    let dir = temp_dir("locate");
    let out = dir.join("annotated.png");
    let ran = locate(&[
        &format!("{FIXTURES}/tpl_button.png"),
        "--in",
        &format!("{FIXTURES}/scene.png"),
        "--annotate",
        out.to_str().unwrap(),
    ]);
    ran.expect(0)
        .stdout_has("match 1: x=1403 y=777 w=81 h=25 centre=(1443, 789) score=1.000 scale=1");
    let picture = image::open(&out).unwrap().to_rgba8();
    assert_eq!(
        picture.get_pixel(1402, 776).0,
        [40, 200, 60, 255],
        "a green box around the match"
    );
}

#[test]
fn locate_explains_a_miss_with_the_best_score() {
    locate(&[
        &format!("{FIXTURES}/tpl_absent.png"),
        "--in",
        &format!("{FIXTURES}/scene.png"),
    ])
    .expect(1)
    .stdout_has("not found: the best place scores 0.6")
    .stdout_has("x=1403 y=777");
}

#[test]
fn locate_finds_scaled_templates_and_rejects_bad_input() {
    locate(&[
        &format!("{FIXTURES}/tpl_button.png"),
        "--in",
        &format!("{FIXTURES}/scene_125.png"),
        "--scales",
        "auto",
    ])
    .expect(0)
    .stdout_has("scale=1.25");
    locate(&["missing.png", "--in", &format!("{FIXTURES}/scene.png")])
        .expect(2)
        .stderr_has("cannot read the template missing.png");
    locate(&[
        &format!("{FIXTURES}/scene.png"),
        "--in",
        &format!("{FIXTURES}/tpl_button.png"),
    ])
    .expect(2)
    .stderr_has("larger than the area searched");
    locate(&[
        &format!("{FIXTURES}/tpl_button.png"),
        "--in",
        &format!("{FIXTURES}/scene.png"),
        "--region",
        "1,2,3",
    ])
    .expect(2)
    .stderr_has("expected X,Y,W,H");
}
