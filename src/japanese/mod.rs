//! Japanese clerical conventions every office needs: the imperial eras (和暦) and the fiscal
//! year (年度, April to March).

pub mod wareki;
