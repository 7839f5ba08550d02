//! `kuroko doctor`: checks the PC a scenario will run on and prints what it found, in Japanese
//! — exit 0 when every check passed (notes included), 1 when one failed, 4 with no desktop.

use crate::desktop::doctor::{self, Verdict};
use crate::error::Result;
use crate::exit;

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn execute(_args: Args) -> Result<i32> {
    println!(
        "kuroko doctor — この PC でシナリオが動くかを確かめます（1 分ほど。その間キーボードとマウスに触れないでください）"
    );
    let findings = doctor::examine();
    for f in &findings {
        let mark = match f.verdict {
            Verdict::Ok => "[OK]  ",
            Verdict::Note => "[注意]",
            Verdict::Fail => "[NG]  ",
            Verdict::Info => "[情報]",
        };
        println!("{mark} {}: {}", f.topic, f.detail);
    }
    let no_desktop = findings.len() == 1 && findings[0].verdict == Verdict::Fail;
    let failed = findings
        .iter()
        .filter(|f| f.verdict == Verdict::Fail)
        .count();
    if no_desktop {
        println!("結果: デスクトップに接続できません");
        Ok(exit::ENVIRONMENT)
    } else if failed > 0 {
        println!("結果: {failed} 件の確認に失敗しました");
        Ok(exit::FAILED)
    } else {
        println!("結果: すべての確認を通りました");
        Ok(exit::SUCCEEDED)
    }
}
