//! `kuroko record`: a task done once by a person becomes a scenario. The capture (X11 RECORD,
//! Windows hooks) only timestamps input; what each click and each typed text means — a
//! control by role and name, else a picture kuroko cut itself — is decided afterwards, and
//! written by `script`.

pub mod crop;
pub mod script;
