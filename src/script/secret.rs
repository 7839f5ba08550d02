//! `secret::` — passwords and tokens a scenario needs but no script, log or ledger may hold:
//! set with `kuroko secret set` (kept encrypted in the ledger, readable only by the PCs it was
//! set for), read here, and from then on hidden as `***` in everything the run writes.

use crate::ledger::process::machine_name;
use crate::ledger::{Recipient, SecretRecord};
use crate::script::context::{RhaiResult, located, run_context, script_error};
use rhai::plugin::*;

/// What a dry run gets instead of a value.
const PLACEHOLDER: &str = crate::redact::MASK;

fn names(list: &[Recipient]) -> String {
    if list.is_empty() {
        return "no PC".into();
    }
    list.iter()
        .map(|r| r.machine.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn read(ctx: &NativeCallContext, name: &str) -> RhaiResult<String> {
    let run = run_context(ctx)?;
    crate::vault::check_name(name).map_err(script_error)?;
    let machine = machine_name();
    let location = run.recorder.location().to_string();
    let found: Option<(Option<SecretRecord>, Vec<Recipient>)> = run
        .recorder
        .read_secrets(|s| Ok((s.secret(name)?, s.recipients()?)))
        .map_err(|e| script_error(format!("cannot read the secret {name:?}: {e}")))?;
    let (secret, registered) = found.unwrap_or_default();
    let Some(secret) = secret else {
        return Err(script_error(format!(
            "there is no secret {name:?} in the ledger {location}: set it with \
             `kuroko secret set {name}` (kuroko secret list shows those set)"
        )));
    };
    let identity = crate::vault::load().map_err(script_error)?.ok_or_else(|| {
        script_error(format!(
            "this PC ({machine}) has no key for reading secrets ({}): on a robot PC, start \
                 `kuroko agent` once (it makes the key and registers the PC), then run \
                 `kuroko secret set {name}` again; on a single PC, `kuroko secret set {name}` \
                 does both",
            crate::vault::identity_path().display()
        ))
    })?;
    let key = identity.public_key();
    if !secret.recipients.iter().any(|r| r.public_key == key) {
        let is_registered = registered.iter().any(|r| r.public_key == key);
        return Err(script_error(if is_registered {
            format!(
                "the secret {name:?} was set before this PC ({machine}) was registered to read \
                 it (it was set for {}): run `kuroko secret set {name}` again now that it is \
                 registered",
                names(&secret.recipients)
            )
        } else {
            format!(
                "this PC ({machine}) is not registered to read secrets in the ledger \
                 {location} (the secret {name:?} was set for {}): on a robot PC, start \
                 `kuroko agent` once, which registers it; then run `kuroko secret set {name}` \
                 again",
                names(&secret.recipients)
            )
        }));
    }
    if run.dry_run {
        run.log(
            crate::events::Level::Info,
            format!(
                "dry run: secret::get({name:?}) gives {PLACEHOLDER:?}, not the value (the secret \
                 exists and this PC can read it)"
            ),
        );
        return Ok(PLACEHOLDER.to_string());
    }
    let value = crate::vault::decrypt(&identity, &secret.ciphertext).map_err(|e| {
        script_error(match e {
            crate::vault::DecryptError::NotForThisKey => format!(
                "the secret {name:?} cannot be opened with this PC's key ({}): run \
                 `kuroko secret set {name}` again",
                identity.path().display()
            ),
            crate::vault::DecryptError::Damaged(why) => format!(
                "the secret {name:?} in the ledger is damaged ({why}): run \
                 `kuroko secret set {name}` again"
            ),
        })
    })?;
    // From here on, the value is hidden in every event, ledger write and message.
    crate::redact::add(&value);
    run.action(format!("secret {name} read (shown as ***)"));
    Ok(value)
}

#[export_module]
pub mod secret_api {
    use super::*;

    /// Returns the value of the secret `name`, set beforehand with `kuroko secret set <name>`
    /// (which asks for the value without showing it). The ledger keeps it encrypted for the
    /// PCs registered to read it; this PC's key opens it. From the moment it is read, the value
    /// is shown as `***` in the run log, `events.jsonl`, the terminal, the launcher, error
    /// messages and the ledger — also when it is typed (`keyboard::type_text`) or filled
    /// (`fill`). Fails, at this line, when there is no such secret or this PC cannot read it
    /// (the message says which command fixes it). A dry run checks both and returns `"***"`
    /// instead of the value.
    ///
    /// ```rhai
    /// let password = secret::get("住基システム.password");
    /// keyboard::type_text(password + "\n");          // the log shows: type "***\n"
    /// ```
    #[rhai_fn(return_raw)]
    pub fn get(ctx: NativeCallContext, name: &str) -> RhaiResult<String> {
        located(&ctx, || read(&ctx, name))
    }
}
