//! `kuroko check`, `kuroko list` and `kuroko docs`.

use crate::support::*;

#[test]
fn check_reports_every_problem_with_positions() {
    let dir = temp_dir("check_all");
    let manifest = MANIFEST.replace("department =", "departmnet =") + "colour = \"red\"\n";
    let script = "window::activate(\"x\");\nkeyboard::type_txt(\"a\");\nkeyboard::hotkey([\"Ctrl\", \"Shft\"]);\nlet y = undefined_var + 1;\n";
    let s = scenario(&dir, "s", &manifest, script);
    let ran = Ran::from(kuroko().arg("check").arg(&s).output().unwrap());
    ran.expect(1)
        .stderr_has("scenario.toml:3:1: unknown key `departmnet`")
        .stderr_has("scenario.toml:9:1: unknown key `colour`")
        .stderr_has("main.rhai:2:11: no function keyboard::type_txt (did you mean `type_text`?)")
        .stderr_has("main.rhai:3:27: unknown key name \"Shft\"")
        .stderr_has("main.rhai:4:9: syntax error")
        .stderr_has("5 problem(s) found");
}

#[test]
fn check_finds_missing_and_broken_template_images() {
    let dir = temp_dir("check_images");
    let s = scenario(
        &dir,
        "s",
        MANIFEST,
        "screen::click_image(\"images/ok.png\");\nscreen::find(\"images/gone.png\");\nscreen::exists(\"images/bad.png\", #{ timeout_s: 1 });\n",
    );
    image::RgbaImage::from_pixel(4, 4, image::Rgba([1, 2, 3, 255]))
        .save(s.join("images/ok.png"))
        .unwrap();
    std::fs::write(s.join("images/bad.png"), "not a png").unwrap();
    Ran::from(kuroko().arg("check").arg(&s).output().unwrap())
        .expect(1)
        .stderr_has("main.rhai:2:14: image \"images/gone.png\" not found")
        .stderr_has("main.rhai:3:16: image \"images/bad.png\" cannot be read")
        .stderr_has("2 problem(s) found");
}

#[test]
fn check_passes_a_good_scenario_without_a_display() {
    let dir = temp_dir("check_ok");
    let s = scenario(
        &dir,
        "s",
        MANIFEST,
        "keyboard::hotkey([\"Ctrl\", \"s\"]);\nlet v = VARS;\n",
    );
    Ran::from(kuroko().arg("check").arg(&s).output().unwrap())
        .expect(0)
        .stdout_has("ok:");
}

#[test]
fn list_shows_scenarios_with_baselines_aligned() {
    let dir = temp_dir("list");
    scenario(
        &dir,
        "b-juminhyo",
        &MANIFEST
            .replace("\"test\"", "\"b-juminhyo\"")
            .replace("テスト", "住民票交付記録"),
        "",
    );
    scenario(
        &dir,
        "a-tax",
        &MANIFEST
            .replace("\"test\"", "\"a-tax\"")
            .replace("2.0", "7.5"),
        "",
    );
    let ran = Ran::from(kuroko().arg("list").arg(&dir).output().unwrap());
    ran.expect(0);
    let lines: Vec<&str> = ran.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", ran.stdout);
    assert!(lines[0].starts_with("id "));
    assert!(
        lines[1].starts_with("a-tax ")
            && lines[1].contains("7.5")
            && lines[1].contains("unattended")
    );
    assert!(lines[2].contains("住民票交付記録") && lines[2].contains("情報政策課"));
    // Columns line up although Japanese characters are two columns wide.
    let col = |line: &str| line.find("情報政策課").map(|b| kuroko_width(&line[..b]));
    assert_eq!(col(lines[1]), col(lines[2]));
}

fn kuroko_width(s: &str) -> usize {
    s.chars()
        .map(|c| if (c as u32) >= 0x3000 { 2 } else { 1 })
        .sum()
}

#[test]
fn committed_reference_matches_the_doc_comments() {
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/scripting-reference.md"
    ))
    .expect("docs/scripting-reference.md is missing: run `cargo run -- docs`");
    assert!(
        committed == kuroko::docs::markdown(),
        "docs/scripting-reference.md is stale: run `cargo run -- docs` and commit it"
    );
}

#[test]
fn docs_command_writes_the_reference() {
    let dir = temp_dir("docs_out");
    Ran::from(
        kuroko()
            .arg("docs")
            .arg("--out")
            .arg(&dir)
            .output()
            .unwrap(),
    )
    .expect(0);
    let text = std::fs::read_to_string(dir.join("scripting-reference.md")).unwrap();
    assert!(text.contains("### `keyboard::type_text(text: string)`"));
    assert!(text.contains("```rhai"));
}
