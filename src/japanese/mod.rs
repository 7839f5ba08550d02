//! Japanese clerical conventions every office needs: the imperial eras (和暦), the fiscal year
//! (年度, April to March), and full-width/half-width forms (全角/半角).

pub mod holidays;
pub mod wareki;
pub mod width;
